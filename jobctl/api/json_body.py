"""Request bodies read as plain JSON: decoded here, validated once, by the service.

The routes hand the service the decoded JSON as it came, and the service validates it with
the strict models of :mod:`jobctl.wire.requests` (the local CLI goes through the same code).
This module only turns bytes into JSON, reporting malformed input as a 422 at ``["body"]``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from jobctl.errors import ValidationFailed

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


async def json_body(request: Request) -> Any:
    """The request's JSON body, decoded. :raises ValidationFailed: when it is not valid JSON."""
    raw = await request.body()
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
        if _ESCAPED_SURROGATE.search(raw):
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be stored
    except RecursionError:
        raise ValidationFailed.field(["body"], "JSON nested too deeply", "json_invalid") from None
    except ValueError as exc:
        raise ValidationFailed.field(["body"], f"malformed JSON: {exc}", "json_invalid") from None
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
