"""Request bodies of the API, validated the same way for the REST API and the local CLI.

Strict types (``"3"`` is not an integer, ``1`` is not a boolean) and unknown fields rejected,
so a typo in a field name is an error instead of a silently ignored setting.

A refused value is told in words, with the value, not in pydantic's terms: ``umask: must be an
octal mode such as 022 or 0027, got '8'``, not ``String should match pattern '^0?[0-7]{3}$'``
(:func:`pydantic_errors`). Each pattern is declared with its words (:func:`_pattern`); bounds,
choices and lengths are worded from what pydantic reports. The rules, the ``loc`` and the
``type`` of each error stay pydantic's, and so does the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from jobctl.errors import ValidationFailed
from jobctl.models import (
    CONCURRENCY_GROUP_PATTERN,
    MAX_CHECK_SECONDS,
    MAX_RETRY_DELAY_SECONDS,
    MAX_TIMEOUT_SECONDS,
    NAME_MAX,
    VARIABLE_NAME_PATTERN,
)
from jobctl.shown import shown
from jobctl.wire import labels
from jobctl.wire.free_json import free_json_errors

DESCRIPTION_MAX = 2000
TIMEOUT_MAX = MAX_TIMEOUT_SECONDS
RETRY_DELAY_MAX = MAX_RETRY_DELAY_SECONDS
STDIN_MAX_BYTES = 64 * 1024
ENV_NAME_MAX = 255
ENV_VALUE_MAX = 32 * 1024
ENV_VARIABLES_MAX = 256
"""Bounds of a job's ``environment``: together well under what ``execve`` takes (2 MiB on Linux,
128 KiB per string), so every run of a valid job can be started."""

PATTERN_WORDS: dict[str, str] = {}
"""What a value that does not match each pattern of the bodies is told (filled by :func:`_pattern`)."""


def _pattern(regex: str, words: str) -> str:
    """``regex``, with ``words`` the 422 says for a value that does not match it (``must be an
    absolute path``; the value follows). Declared together, so no pattern is told as a regex."""
    PATTERN_WORDS[regex] = words
    return regex


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
ID_MAX = 2**31 - 1
"""Ids are 32-bit integer columns; a larger number is a 422, not a driver overflow."""


NO_NUL = "must not contain NUL characters"


def no_nul(value: str) -> str:
    """``value``, once it holds no NUL: Postgres text cannot hold one, and a NUL compared with a
    text column fails there as a driver error (a 503), where SQLite answers. For every text of a
    body and every text query parameter (:mod:`jobctl.api.params`). :raises ValueError:"""
    if "\x00" in value:
        raise ValueError(NO_NUL)
    return value


Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), AfterValidator(no_nul)]
WithoutNul = Annotated[str, AfterValidator(no_nul)]
"""Text without NUL characters: every text query parameter of the API (:mod:`jobctl.api.params`)."""

IN_LOWER_CASE = AfterValidator(str.lower)
"""For an id in a URL's path: ids are stored in lower case, and a UUID written in capitals (as
some tools print them) names the same job or run, as in ``job_id=``, ``after=`` and the CLI."""
LabelKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=labels.KEY_MAX,
        pattern=_pattern(
            labels.KEY_PATTERN, "must be lowercase letters, digits and . _ / -, starting with a letter or digit"
        ),
    ),
]
LabelValue = Annotated[
    str,
    Field(max_length=labels.VALUE_MAX, pattern=_pattern(labels.VALUE_PATTERN, "must not contain control characters")),
]
Labels = Annotated[
    dict[LabelKey, LabelValue],
    Field(
        max_length=labels.LABELS_MAX,
        description="key/value pairs to select jobs by (docs/labels.md)",
        json_schema_extra={  # a key must match the pattern, not only keys that do are checked
            "additionalProperties": False,
            "propertyNames": {"minLength": 1, "maxLength": labels.KEY_MAX, "pattern": labels.KEY_PATTERN},
        },
    ),
]


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_NOT_AN_INTEGER = "Input should be a valid integer, unable to parse string as an integer"
"""Pydantic's own words for text that is no integer (``per_page=abc``)."""


def _digits_only(value: Any) -> Any:
    """A whole-number query parameter as text of ASCII digits (a leading ``-`` allowed, so that a
    negative number meets the bound's own message). Pydantic's lax reading of text also takes
    ``1_0`` (Python's digit grouping), ``10.0`` and `` 10 ``: a mistyped ``per_page`` was read
    as another number instead of refused."""
    if isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value):
        raise PydanticCustomError("int_parsing", _NOT_AN_INTEGER)
    return value


WholeNumber = Annotated[int, BeforeValidator(_digits_only)]
"""An integer query parameter, written in digits alone."""


def _own_variable(name: str) -> str:
    if name.startswith("JOBCTL_"):
        raise ValueError("JOBCTL_ variables are set by jobctl for each run; choose another name")
    return name


VariableName = Annotated[
    str,
    Field(
        pattern=_pattern(
            f"^{VARIABLE_NAME_PATTERN}$",
            "must be a shell variable name (letters, digits, _; not starting with a digit)",
        ),
        max_length=ENV_NAME_MAX,
    ),
    AfterValidator(_own_variable),
]
VariableValue = Annotated[str, Field(max_length=ENV_VALUE_MAX), AfterValidator(no_nul)]
Environment = Annotated[
    dict[VariableName, VariableValue],
    Field(
        max_length=ENV_VARIABLES_MAX,
        description="variables set for each run, over the daemon's base environment (docs/run-environment.md)",
        json_schema_extra={"propertyNames": {"pattern": f"^{VARIABLE_NAME_PATTERN}$", "maxLength": ENV_NAME_MAX}},
    ),
]
WorkingDirectory = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        pattern=_pattern("^/", "must be an absolute path"),
        description="absolute path where runs start",
    ),
    AfterValidator(no_nul),
]
Umask = Annotated[
    str,
    Field(
        pattern=_pattern("^(0?[0-7]{3}|[0-7]{1,2})$", "must be an octal mode such as 022 or 0027"),
        description="octal umask of runs, e.g. 027; fewer digits read as the shell's umask reads them: 22 is 022",
    ),
]
"""Kept as written (``22``, ``022``, ``0022``): runs read it as octal, the shell's ``umask``
builtin's way, where ``22`` is ``022``; rewriting it would make ``apply`` of a file saying
``umask = "22"`` see a change at every run."""


def _fits_stdin(value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > STDIN_MAX_BYTES:
        raise ValueError(f"must be at most {STDIN_MAX_BYTES} bytes as UTF-8")
    return value


Stdin = Annotated[
    str,
    Field(description="text given to each run on standard input, at most 64 KiB as UTF-8"),
    AfterValidator(no_nul),
    AfterValidator(_fits_stdin),
]
RunAs = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=_pattern(
            r"^[^\x00-\x20:/]+$", "must be a name or a numeric id, without spaces, control characters, ':' or '/'"
        ),
        description="a name or a numeric id",
    ),
]
RetryBackoffName = Literal["fixed", "exponential"]
RetryMaxDelay = Annotated[int, Field(ge=1, le=RETRY_DELAY_MAX, description="cap of an exponential retry delay")]
RetryExitCodes = Annotated[
    list[Annotated[int, Field(ge=1, le=255)]],
    Field(max_length=255, description="retry only failures with these exit codes; empty: any failure"),
]
Nice = Annotated[int, Field(ge=-20, le=19, description="nice value of runs; negative needs a root daemon")]
MaxInstances = Annotated[int, Field(ge=1, le=1000)]
Timeout = Annotated[int, Field(ge=1, le=TIMEOUT_MAX)]
RetryCount = Annotated[int, Field(ge=0, le=100)]
RetryDelay = Annotated[int, Field(ge=0, le=RETRY_DELAY_MAX)]
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
MisfirePolicyName = Literal["run_once", "skip"]
EventName = Literal[
    "start", "success", "failure", "timeout", "recovery", "output", "skipped", "missed", "abandoned", "cancelled",
    "paused", "late", "long_running", "no_success",
]  # fmt: skip
CheckSeconds = Annotated[int, Field(ge=1, le=MAX_CHECK_SECONDS, description="seconds (at most 360 days)")]
PauseAfterFailures = Annotated[int, Field(ge=1, le=1000, description="pause after this many failed final outcomes")]
PauseReason = Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX), AfterValidator(no_nul)]


class NotifyRuleBody(BaseModel):
    """One notification rule of a job: send these events to that notifier (docs/notifications.md)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    notifier: Annotated[str, Field(min_length=1, max_length=100)]
    on: Annotated[list[EventName], Field(min_length=1, max_length=20)]
    eachAttempt: bool = False


NotifyRules = Annotated[list[NotifyRuleBody], Field(max_length=50)]
OverlapPolicyName = Annotated[
    Literal["skip", "queue", "replace"],
    Field(description="what a slot does when maxInstances runs are active (docs/overlap.md)"),
]
MaxQueued = Annotated[int, Field(ge=1, le=100, description="with overlapPolicy queue: slots that may wait at once")]
GroupName = Annotated[
    str,
    Field(
        pattern=_pattern(f"^{CONCURRENCY_GROUP_PATTERN}$", "must be 1-200 letters, digits, '.', '_' or '-'"),
        description="a [[concurrency_groups]] name of the daemon's config (docs/concurrency-groups.md)",
    ),
]

_STRICT = ConfigDict(strict=True, extra="forbid")


FREE_JSON_FIELDS = ("scheduleConfig", "taskArgs")
"""A job's fields of any JSON object, whose numbers and depth :func:`parse_body` checks."""


class JobCreate(BaseModel):
    """Body of ``POST /jobs``."""

    model_config = _STRICT
    free_json: ClassVar[tuple[str, ...]] = FREE_JSON_FIELDS

    name: Name
    description: Description | None = None
    taskFunctionId: Id
    jobTypeId: Id
    scheduleConfig: dict[str, Any]
    taskArgs: dict[str, Any] | None = None
    maxInstances: MaxInstances = 1
    timeoutSeconds: Timeout | None = None
    retryCount: RetryCount = 0
    retryDelaySeconds: RetryDelay = 60
    isEnabled: bool = True
    isPaused: bool = False
    misfirePolicy: MisfirePolicyName = "run_once"
    labels: Labels = Field(default_factory=dict)
    environment: Environment | None = None
    workingDirectory: WorkingDirectory | None = None
    umask: Umask | None = None
    nice: Nice | None = None
    stdin: Stdin | None = None
    runAsUser: RunAs | None = None
    runAsGroup: RunAs | None = None
    notify: NotifyRules | None = None
    pauseAfterFailures: PauseAfterFailures | None = None
    startGraceSeconds: CheckSeconds | None = None
    maxRuntimeAlertSeconds: CheckSeconds | None = None
    expectSuccessWithinSeconds: CheckSeconds | None = None
    retryBackoff: RetryBackoffName = "fixed"
    retryMaxDelaySeconds: RetryMaxDelay | None = None
    retryOnExitCodes: RetryExitCodes | None = None
    overlapPolicy: OverlapPolicyName = "skip"
    maxQueued: MaxQueued = 1
    concurrencyGroup: GroupName | None = None

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class JobUpdate(BaseModel):
    """Body of ``PUT /jobs/{id}``: every field optional; only the ones sent change."""

    model_config = _STRICT
    free_json: ClassVar[tuple[str, ...]] = FREE_JSON_FIELDS

    name: Name | None = None
    description: Description | None = None
    taskFunctionId: Id | None = None
    jobTypeId: Id | None = None
    scheduleConfig: dict[str, Any] | None = None
    taskArgs: dict[str, Any] | None = None
    maxInstances: MaxInstances | None = None
    timeoutSeconds: Timeout | None = None
    retryCount: RetryCount | None = None
    retryDelaySeconds: RetryDelay | None = None
    isEnabled: bool | None = None
    isPaused: bool | None = None
    misfirePolicy: MisfirePolicyName | None = None
    labels: Labels | None = None
    environment: Environment | None = None
    workingDirectory: WorkingDirectory | None = None
    umask: Umask | None = None
    nice: Nice | None = None
    stdin: Stdin | None = None
    runAsUser: RunAs | None = None
    runAsGroup: RunAs | None = None
    notify: NotifyRules | None = None
    pauseAfterFailures: PauseAfterFailures | None = None
    startGraceSeconds: CheckSeconds | None = None
    maxRuntimeAlertSeconds: CheckSeconds | None = None
    expectSuccessWithinSeconds: CheckSeconds | None = None
    retryBackoff: RetryBackoffName | None = None
    retryMaxDelaySeconds: RetryMaxDelay | None = None
    retryOnExitCodes: RetryExitCodes | None = None
    overlapPolicy: OverlapPolicyName | None = None
    maxQueued: MaxQueued | None = None
    concurrencyGroup: GroupName | None = None

    @field_validator(
        "name",
        "retryBackoff",
        "taskFunctionId",
        "jobTypeId",
        "scheduleConfig",
        "maxInstances",
        "retryCount",
        "retryDelaySeconds",
        "isEnabled",
        "isPaused",
        "misfirePolicy",
        "labels",
        "overlapPolicy",
        "maxQueued",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)


class JobStatusUpdate(BaseModel):
    """Body of ``PUT /jobs/{id}/status``: ``isEnabled``, ``isPaused`` or both, and the reason for a
    pause or a disable (a pause shows it until the resume; both record it in the audit log)."""

    model_config = _STRICT

    isEnabled: bool | None = None
    isPaused: bool | None = None
    reason: PauseReason | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> JobStatusUpdate:
        if self.isEnabled is None and self.isPaused is None:
            raise ValueError("give isEnabled, isPaused or both")
        if self.reason is not None and self.isPaused is not True and self.isEnabled is not False:
            raise ValueError("a reason goes with isPaused: true or isEnabled: false")
        return self


SOURCE_MAX = 200


class ApplyRequest(BaseModel):
    """Body of ``POST /apply``: the ``[[jobs]]`` tables of a jobs file as JSON (its keys, not
    API fields; :mod:`jobctl.wire.job_tables`), the source they come from, and what to do."""

    model_config = _STRICT

    source: Annotated[
        str,
        Field(
            min_length=1,
            max_length=SOURCE_MAX,
            pattern=_pattern(r"^[^\x00-\x1f\x7f]+$", "must not contain control characters"),
        ),
    ]
    jobs: list[dict[str, Any]]
    prune: bool = False
    dryRun: bool = False
    allowEmpty: bool = False
    """Let ``prune`` delete every job of ``source`` when ``jobs`` is empty (refused otherwise: 422)."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value


Body = TypeVar("Body", bound=BaseModel)


def parse_body(model: type[Body], data: Any) -> Body:
    """Validate ``data`` as ``model``. :raises ValidationFailed: with ``loc`` starting at ``"body"``.

    The model's free-form JSON fields (its ``free_json``) are checked here too, for numbers that
    are not finite and for nesting too deep (:mod:`jobctl.wire.free_json`): the one check every
    body goes through, from the API, the CLI or a jobs file. A field whose type is already
    wrong is told that alone.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed.field(["body"], "the body must be a JSON object", "type_error.dict")
    errors = free_json_errors(data, getattr(model, "free_json", ()))
    try:
        parsed = model.model_validate(dict(data))
    except ValidationError as exc:
        typed = pydantic_errors(exc, prefix=("body",))
        wrong_fields = {error["loc"][1] for error in typed if len(error["loc"]) > 1}
        raise ValidationFailed(typed + [error for error in errors if error["loc"][1] not in wrong_fields]) from None
    if errors:
        raise ValidationFailed(errors)
    return parsed


def pydantic_errors(exc: ValidationError, *, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic's errors in the API's ``{"loc", "msg", "type"}`` shape, each ``msg`` in words
    (:func:`in_words`); ``loc`` and ``type`` as pydantic gives them (scripts depend on them)."""
    return [{"loc": [*prefix, *error["loc"]], "msg": in_words(error), "type": error["type"]} for error in exc.errors()]


def in_words(error: ErrorDetails) -> str:
    """One error's message as a sentence about the value, the value at its end: a pattern by
    its words (:data:`PATTERN_WORDS`), ``must be 0 or more, got -1``, ``must be skip, queue or
    replace, got 'wait'``, ``must be at most 200 characters, got 300``. Our own validators'
    sentences lose the ``Value error, `` pydantic puts before them; any other error (a wrong
    type, a missing or unknown field) keeps pydantic's message."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    words: str | None = None
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str(ctx.get("pattern")))
    elif kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        words = f"must be {_one_of(choices)}" if choices else None
    elif kind in _BOUNDS:
        words = _BOUNDS[kind].format(ctx[_BOUND_KEYS[kind]])
    elif kind in ("string_too_long", "string_too_short") and isinstance(value, str):
        size = int(ctx.get("max_length", ctx.get("min_length", 0)))
        if kind == "string_too_short" and size == 1:
            return "must not be empty"
        bound = "at most" if kind == "string_too_long" else "at least"
        return f"must be {bound} {size} characters, got {len(value)}"
    elif kind in ("too_long", "too_short"):
        size = int(ctx.get("max_length", ctx.get("min_length", 0)))
        bound = "at most" if kind == "too_long" else "at least"
        count = len(value) if isinstance(value, list | dict) else ctx.get("actual_length")
        got = f", got {count}" if count is not None else ""
        return f"must have {bound} {size} {'entry' if size == 1 else 'entries'}{got}"
    if words is None:
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{words}, got {shown(value)}"


_BOUNDS = {
    "greater_than_equal": "must be {} or more",
    "greater_than": "must be more than {}",
    "less_than_equal": "must be at most {}",
    "less_than": "must be less than {}",
}
_BOUND_KEYS = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le", "less_than": "lt"}


def _one_of(choices: list[str]) -> str:
    """``a, b or c``."""
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
