"""The sandbox's Step Functions gaps (history paging, redrive, tokens, timing), patched into moto."""
