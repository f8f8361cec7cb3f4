"""What is Step Functions' own: its action plan builders (actions.py), its poller and its source (source.py)."""
