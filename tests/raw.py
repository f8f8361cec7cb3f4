"""Raw JSON-protocol calls to the sandbox: the body exactly as it arrives, not as botocore parses it.

botocore's parser would turn an ISO string into a datetime where the model wants an epoch number, and a
test reading through it could not see the difference; `tests/shapes.py` checks what these return.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TARGETS = {"codepipeline": "CodePipeline_20150709", "stepfunctions": "AWSStepFunctions"}
CONTENT_TYPES = {"codepipeline": "application/x-amz-json-1.1", "stepfunctions": "application/x-amz-json-1.0"}


def raw_call(url: str, service: str, operation: str, body: dict[str, Any], region: str = "us-east-1") -> Any:
    """POST one operation with the JSON protocol's headers; the parsed body (fails on an HTTP error)."""
    scope = f"sandbox/20260101/{region}/{service if service != 'stepfunctions' else 'states'}/aws4_request"
    request = urllib.request.Request(
        url.rstrip("/") + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "X-Amz-Target": f"{TARGETS[service]}.{operation}",
            "Content-Type": CONTENT_TYPES[service],
            # The sandbox does not check signatures; it reads the region and service from the scope.
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a local sandbox
        return json.loads(response.read() or b"{}")
