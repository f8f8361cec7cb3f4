"""Names the sandbox gives its own account and roles."""

ACCOUNT_ID = "123456789012"
PIPELINE_ROLE = "wavedeck-sandbox-pipeline"
SFN_ROLE = "wavedeck-sandbox-states"
