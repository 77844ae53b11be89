"""Request bodies read as plain JSON: decoded here, validated once, by the service.

The routes hand the service the decoded JSON as it came, and the service validates it with
the strict models of :mod:`jobctl.wire.requests` (the local CLI goes through the same code).
This module only turns bytes into JSON, reporting malformed input as a 422 at ``["body"]``.
``NaN``, ``Infinity`` and ``-Infinity``, which JSON has not but Python's encoder writes (and so
``jobctl --api`` sends what a jobs file's ``nan`` or a ``--from-json`` body's ``NaN`` holds), are
read as the numbers they stand for and refused by that validation at their field, in the words
the CLI on the store uses (docs/free-form-json.md): no body may hold one.

A body must come as ``Content-Type: application/json`` (parameters such as ``charset`` are
allowed); anything else, or no content type, is a 415 before the body is read, so a form or a
text body sent by mistake is not parsed as if it were JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from jobctl.api.errors import UnsupportedMediaType
from jobctl.errors import ValidationFailed

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


JSON_MEDIA_TYPE = "application/json"

EMPTY_BODY = "the body is empty: send a JSON object"
"""What a request with no body (or only whitespace) is told. Every body the API reads is a JSON
object; the decoder's own words for it were ``malformed JSON: Expecting value: line 1 column 1
(char 0)``, which says nothing about what to send."""


async def json_body(request: Request) -> Any:
    """The request's JSON body, decoded.

    :raises UnsupportedMediaType: when it is not sent as ``application/json`` (415).
    :raises ValidationFailed: when it is empty or not valid JSON.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        shown = f"Content-Type {media_type!r}" if media_type else "no Content-Type"
        raise UnsupportedMediaType(f"the body must be sent as Content-Type: {JSON_MEDIA_TYPE}, not with {shown}")
    raw = await request.body()
    if not raw.strip():
        raise ValidationFailed.field(["body"], EMPTY_BODY, "json_invalid")
    try:
        data = json.loads(raw)
        if _ESCAPED_SURROGATE.search(raw):
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be stored
    except RecursionError:
        raise ValidationFailed.field(["body"], "JSON nested too deeply", "json_invalid") from None
    except ValueError as exc:
        raise ValidationFailed.field(["body"], f"malformed JSON: {exc}", "json_invalid") from None
    return data
