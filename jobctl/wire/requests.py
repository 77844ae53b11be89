"""Request bodies of the API, validated the same way for the REST API and the local CLI.

Strict types (``"3"`` is not an integer, ``1`` is not a boolean) and unknown fields rejected,
so a typo in a field name is an error instead of a silently ignored setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jobctl.errors import ValidationFailed
from jobctl.models import CONCURRENCY_GROUP_PATTERN, MAX_TIMEOUT_SECONDS, NAME_MAX, VARIABLE_NAME_PATTERN
from jobctl.wire import labels

DESCRIPTION_MAX = 2000
TIMEOUT_MAX = MAX_TIMEOUT_SECONDS
RETRY_DELAY_MAX = 7 * 24 * 3600
STDIN_MAX_BYTES = 64 * 1024
ENV_NAME_MAX = 255
ENV_VALUE_MAX = 32 * 1024
ENV_VARIABLES_MAX = 256
"""Bounds of a job's ``environment``: together well under what ``execve`` takes (2 MiB on Linux,
128 KiB per string), so every run of a valid job can be started."""

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
LabelKey = Annotated[str, Field(min_length=1, max_length=labels.KEY_MAX, pattern=labels.KEY_PATTERN)]
LabelValue = Annotated[str, Field(max_length=labels.VALUE_MAX, pattern=labels.VALUE_PATTERN)]
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


def _own_variable(name: str) -> str:
    if name.startswith("JOBCTL_"):
        raise ValueError("JOBCTL_ variables are set by jobctl for each run; choose another name")
    return name


VariableName = Annotated[
    str, Field(pattern=f"^{VARIABLE_NAME_PATTERN}$", max_length=ENV_NAME_MAX), AfterValidator(_own_variable)
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
    Field(min_length=1, max_length=4096, pattern="^/", description="absolute path where runs start"),
    AfterValidator(no_nul),
]
Umask = Annotated[str, Field(pattern="^0?[0-7]{3}$", description="octal umask of runs, e.g. 027")]


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
    str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x20:/]+$", description="a name or a numeric id")
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
CheckSeconds = Annotated[int, Field(ge=1, le=TIMEOUT_MAX * 12, description="seconds (at most 360 days)")]
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
        pattern=f"^{CONCURRENCY_GROUP_PATTERN}$",
        description="a [[concurrency_groups]] name of the daemon's config (docs/concurrency-groups.md)",
    ),
]

_STRICT = ConfigDict(strict=True, extra="forbid")


class JobCreate(BaseModel):
    """Body of ``POST /jobs``."""

    model_config = _STRICT

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
    """Body of ``PUT /jobs/{id}/status``: ``isEnabled``, ``isPaused`` or both."""

    model_config = _STRICT

    isEnabled: bool | None = None
    isPaused: bool | None = None
    reason: PauseReason | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> JobStatusUpdate:
        if self.isEnabled is None and self.isPaused is None:
            raise ValueError("give isEnabled, isPaused or both")
        if self.reason is not None and self.isPaused is not True:
            raise ValueError("a reason goes with isPaused: true")
        return self


SOURCE_MAX = 200


class ApplyRequest(BaseModel):
    """Body of ``POST /apply``: the ``[[jobs]]`` tables of a jobs file as JSON (its keys, not
    API fields; :mod:`jobctl.wire.job_tables`), the source they come from, and what to do."""

    model_config = _STRICT

    source: Annotated[str, Field(min_length=1, max_length=SOURCE_MAX, pattern=r"^[^\x00-\x1f\x7f]+$")]
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
    """Validate ``data`` as ``model``. :raises ValidationFailed: with ``loc`` starting at ``"body"``."""
    if not isinstance(data, Mapping):
        raise ValidationFailed.field(["body"], "the body must be a JSON object", "type_error.dict")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc, prefix=("body",))) from None


def pydantic_errors(exc: ValidationError, *, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic's errors in the API's ``{"loc", "msg", "type"}`` shape; our own validators'
    sentences without the ``Value error, `` pydantic puts before them (``name: must not contain
    control characters``, not ``name: Value error, must not ...``)."""
    return [
        {"loc": [*prefix, *error["loc"]], "msg": error["msg"].removeprefix("Value error, "), "type": error["type"]}
        for error in exc.errors()
    ]
