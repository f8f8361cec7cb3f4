"""Names the sandbox gives its own account, roles and the console's event plumbing."""

from console.sandbox_process import SANDBOX_ACCOUNT_ID, SANDBOX_EVENTS_QUEUE

# The console knows these two without importing the sandbox (a console that starts it reads its queue).
ACCOUNT_ID = SANDBOX_ACCOUNT_ID
PIPELINE_ROLE = "wavedeck-sandbox-pipeline"
SFN_ROLE = "wavedeck-sandbox-states"

# The console's push mode (`--events-queue`): in every region an EventBridge rule sends CodePipeline and Step
# Functions state changes to this SQS queue, as the README shows for a real account.
EVENTS_RULE = "wavedeck-console"
EVENTS_QUEUE = SANDBOX_EVENTS_QUEUE
# Push for a team (`--events-topic`): the same rule also publishes to this SNS topic, and each console
# subscribes a queue of its own to it, so every console gets every event.
EVENTS_TOPIC = "wavedeck-events"
EVENT_SOURCES = ("aws.codepipeline", "aws.states")
# An events queue nobody reads would grow without end (moto keeps messages past their retention, and each
# send scans the queue); the sandbox drops messages older than this, as AWS does with its retention period.
EVENTS_RETENTION_SECONDS = 120
