"""What is CodePipeline's own: its action plan builders (actions.py), its poller and its source (source.py)."""
