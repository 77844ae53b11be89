"""A 422 says in words what a field must be, with the value given; its ``loc`` and ``type`` are
pydantic's, unchanged (scripts depend on them).

pydantic's own messages named the rule as the code declares it, ``String should match pattern
'^0?[0-7]{3}$'``, ``Input should be greater than or equal to 0``; the command line repeats the
``msg`` after the option (tests/cli/test_cli_job_option_errors.py), a jobs file after the key.
"""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.wire.requests import PATTERN_WORDS, ApplyRequest, JobCreate, JobUpdate
from tests.api.helpers import Api

LABEL_KEY = "must be lowercase letters, digits and . _ / -, starting with a letter or digit"
ENV_NAME = "must be a shell variable name (letters, digits, _; not starting with a digit)"

REFUSED: dict[str, tuple[dict[str, Any], list[Any], str, str]] = {
    "umask": ({"umask": "8"}, ["umask"], "must be an octal mode such as 022 or 0027, got '8'",
              "string_pattern_mismatch"),
    "working-directory": (
        {"workingDirectory": "rel/dir"},
        ["workingDirectory"],
        "must be an absolute path, got 'rel/dir'",
        "string_pattern_mismatch",
    ),
    "label-key": ({"labels": {"Team": "ops"}}, ["labels", "Team", "[key]"], f"{LABEL_KEY}, got 'Team'",
                  "string_pattern_mismatch"),
    "label-value": ({"labels": {"team": "a\x01"}}, ["labels", "team"],
                    "must not contain control characters, got 'a\\x01'", "string_pattern_mismatch"),
    "env-name": ({"environment": {"1X": "a"}}, ["environment", "1X", "[key]"], f"{ENV_NAME}, got '1X'",
                 "string_pattern_mismatch"),
    "run-as": ({"runAsUser": "a b"}, ["runAsUser"],
               "must be a name or a numeric id, without spaces, control characters, ':' or '/', got 'a b'",
               "string_pattern_mismatch"),
    "group": ({"concurrencyGroup": "has space"}, ["concurrencyGroup"],
              "must be 1-200 letters, digits, '.', '_' or '-', got 'has space'", "string_pattern_mismatch"),
    "retries": ({"retryCount": -1}, ["retryCount"], "must be 0 or more, got -1", "greater_than_equal"),
    "nice": ({"nice": 20}, ["nice"], "must be at most 19, got 20", "less_than_equal"),
    "timeout": ({"timeoutSeconds": 0}, ["timeoutSeconds"], "must be 1 or more, got 0", "greater_than_equal"),
    "exit-code": ({"retryOnExitCodes": [3, 256]}, ["retryOnExitCodes", 1], "must be at most 255, got 256",
                  "less_than_equal"),
    "overlap": ({"overlapPolicy": "wait"}, ["overlapPolicy"], "must be skip, queue or replace, got 'wait'",
                "literal_error"),
    "misfire": ({"misfirePolicy": True}, ["misfirePolicy"], "must be run_once or skip, got true", "literal_error"),
    "name-long": ({"name": "n" * 201}, ["name"], "must be at most 200 characters, got 201", "string_too_long"),
    "name-empty": ({"name": ""}, ["name"], "must not be empty", "string_too_short"),
    "labels-many": ({"labels": {f"k{i}": "v" for i in range(65)}}, ["labels"], "must have at most 64 entries, got 65",
                    "too_long"),
    "notify-no-event": ({"notify": [{"notifier": "ops", "on": []}]}, ["notify", 0, "on"],
                        "must have at least 1 entry, got 0", "too_short"),
    "long-value-cut": ({"umask": "7" * 100}, ["umask"],
                       f"must be an octal mode such as 022 or 0027, got '{'7' * 60}\u2026'", "string_pattern_mismatch"),
    "wrong-type": ({"retryCount": "3"}, ["retryCount"], "Input should be a valid integer", "int_type"),
}  # fmt: skip
"""Body fields, and the one error each is: ``loc`` below ``body``, ``msg``, ``type``."""


def _body(**fields: Any) -> dict[str, Any]:
    body = {
        "name": "refused", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
        "taskArgs": {"command": "true"},
    }  # fmt: skip
    return {**body, **fields}


@pytest.mark.parametrize(("fields", "loc", "msg", "kind"), REFUSED.values(), ids=list(REFUSED))
def test_a_refused_field_is_told_in_words_at_pydantic_s_loc(
    shared_api: Api, unchanged_job: dict[str, Any], fields: dict[str, Any], loc: list[Any], msg: str, kind: str
) -> None:
    expected = [{"loc": ["body", *loc], "msg": msg, "type": kind}]
    created = shared_api.call("POST", "/jobs", json=_body(**fields))
    assert (created.status_code, created.json()["detail"]) == (422, expected)
    updated = shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json=fields)
    assert (updated.status_code, updated.json()["detail"]) == (422, expected)


def test_an_apply_source_is_told_in_words(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    response = shared_api.call("POST", "/apply", json={"source": "a\x01b", "jobs": [], "dryRun": True})
    assert (response.status_code, response.json()["detail"]) == (
        422,
        [
            {
                "loc": ["body", "source"],
                "msg": "must not contain control characters, got 'a\\x01b'",
                "type": "string_pattern_mismatch",
            }
        ],
    )


def _patterns(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return own.union(*(_patterns(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(value) for value in schema))
    return set()


def test_every_pattern_of_a_request_body_is_told_in_words() -> None:
    """A pattern added without its words would be told as a regular expression again."""
    patterns = set().union(*(_patterns(model.model_json_schema()) for model in (JobCreate, JobUpdate, ApplyRequest)))
    assert patterns, "the schema holds the patterns"
    assert patterns <= set(PATTERN_WORDS), patterns - set(PATTERN_WORDS)
