"""What is Step Functions' own: its action plan builders and its poller."""
