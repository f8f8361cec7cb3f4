"""What is CodePipeline's own: its action plan builders and its poller."""
