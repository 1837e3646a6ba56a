"""The runtime API's bodies, defined once as pydantic models.

The schema is the validator: django-ninja (calls/api.py) validates each request body with its
model here before the view runs, and builds the OpenAPI document from the same models and the
operations' signatures, so the document and the code cannot drift. A model refuses exactly
what its view would (strict types: no bool or text read as a number; text that must say
something refuses blanks), so a body the document accepts is one the view takes. Refusals in
the API's words are raised here (PydanticCustomError), field by field; the call report is
validated again by calls/services/reports.py's call_report, with the same model, for its other
callers. tests/calls/test_openapi.py fuzzes every operation against the document (schemathesis).
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from core import text

from .models import SAID_MAX, SUMMARY_MAX, TRANSCRIPT_MAX, Outcome

MAX_ACTIONS = 20
ACTION_DETAIL_MAX = 500
MAX_NEXT_STEPS = 20
NEXT_STEP_MAX = 500
RECORDING_URL_MAX = 500
EXTERNAL_ID_MAX = 100
ID_MAX = 2**63 - 1  # ids are 64-bit

OutcomeValue = Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
ActionType = Literal["send_sms", "transfer_call"]


# Errors -----------------------------------------------------------------------------------


class Error(BaseModel):
    error: str = Field(description="What went wrong, in words a person can act on.")


class FieldErrors(Error):
    fields: dict[str, str | list[str]] = Field(
        description="Each refused field (`actions[0].type`, `body`) with why."
    )


# POST /api/v1/calls ------------------------------------------------------------------------


def _whole(value):
    """5.0 is the integer 5 in JSON (and in JSON Schema); 5.5, true and "5" are no integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole(**limits):
    """An integer, strictly: no bool or text read as one; a whole number written as 5.0 is one.
    `limits`: ge, le (inside, so that the document shows them as minimum and maximum)."""
    return Annotated[int, Field(**limits), BeforeValidator(_whole)]


Whole = whole()
Id = whole(ge=1, le=ID_MAX)  # ids are positive 64-bit integers

STORABLE = r"^[^\x00]*$"  # no NUL (a lone surrogate never parses: core/jsonapi.py)


def _storable(value, handler, info: ValidationInfo):
    """A NUL is refused in the words of core/text.py (no database stores one)."""
    try:
        return handler(value)
    except PydanticError:
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("words", text.MESSAGE.format(what=info.field_name)) from None
        raise


def stored(**limits):
    """Text that is stored (a call report's): what the schema allows is what the database
    takes. `limits`: min_length, max_length."""
    return Annotated[str, StringConstraints(pattern=STORABLE, **limits), WrapValidator(_storable)]


# Any JSON value whose text (keys included) a database stores: what a report's unknown fields
# may hold (they are ignored, but refused with a NUL like every field: core/text.py).
class _StorableNames:
    """An object's field names are checked with propertyNames in the document (pydantic writes
    patternProperties, which lets a name that does not match through unchecked)."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        ((pattern, values),) = schema.pop("patternProperties").items()
        return {**schema, "propertyNames": {"pattern": pattern}, "additionalProperties": values}


StorableName = Annotated[str, StringConstraints(pattern=STORABLE)]
StorableJSON = TypeAliasType(
    "StorableJSON",
    "StorableName | int | float | bool | None | list[StorableJSON] "
    "| Annotated[dict[StorableName, StorableJSON], _StorableNames()]",
)


def _unknown_field(value, handler):
    try:
        return handler(value)
    except PydanticError:
        raise PydanticCustomError("words", text.MESSAGE.format(what="This field")) from None


def _field_names(data):
    """Every field name storable too, known or not (JSON Schema's propertyNames)."""
    if isinstance(data, dict) and any(text.bad_text(str(key)) for key in data):
        raise PydanticCustomError("words", text.MESSAGE.format(what="A field name"))
    return data


class StoredBody(BaseModel):
    """A body whose text is stored: strict types, and unknown fields ignored but, like every
    field, storable (no NUL in a name or a value, at any depth), as the document says."""

    model_config = ConfigDict(
        strict=True, extra="allow", json_schema_extra={"propertyNames": {"pattern": STORABLE}}
    )

    __pydantic_extra__: dict[str, Annotated[StorableJSON, WrapValidator(_unknown_field)]]

    _names = model_validator(mode="before")(_field_names)

    @model_validator(mode="after")
    def _ignore_unknown_fields(self):
        self.__pydantic_extra__.clear()  # checked, then ignored: never dumped, never stored
        return self


class CallAction(StoredBody):
    type: ActionType
    status: Literal["ok", "failed"]
    detail: stored(max_length=ACTION_DETAIL_MAX) = Field(
        "", description="What was sent, or why not."
    )


_NUMBER = re.compile(r"\s*[-+]?[0-9]+(\.[0-9]*)?\s*")  # pydantic would read Unix time


NAME_THE_JOB = "Name the job too: a job version belongs to a job."


def _iso(value):
    """ISO 8601 text only (the fields are lax just so that JSON text parses as a datetime; a
    number, or a number in quotes, is no time)."""
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError(
            "Send an ISO 8601 date and time with a timezone, e.g. 2026-01-31T14:05:00Z."
        )
    return value


class CallReport(StoredBody):
    """A finished call, as the telephony runtime reports it. Unknown fields are ignored."""

    model_config = ConfigDict(
        title="CallReport",
        # job_version names a version of `job`: without a job it is refused.
        json_schema_extra={
            "propertyNames": {"pattern": STORABLE},
            "anyOf": [
                {"properties": {"job_version": {"type": "null"}}},
                {"required": ["job"], "properties": {"job": {"type": "integer"}}},
            ],
        },
    )

    number: stored(max_length=32) = Field(
        description="The workspace's number that took the call (E.164, or national format "
        "in the workspace's country).",
        examples=["+15555550123"],
    )
    external_id: stored(min_length=1, max_length=EXTERNAL_ID_MAX) = Field(
        description="The runtime's id of the call, unique in the workspace."
    )
    caller: stored(max_length=32) = Field(
        "anonymous", description='The caller\'s number (E.164) or "anonymous".'
    )
    started_at: AwareDatetime = Field(
        strict=False,
        description="ISO 8601 with a timezone; from 2000-01-01 on, at most a day ahead.",
    )
    ended_at: AwareDatetime = Field(
        strict=False,
        description="ISO 8601 with a timezone; not before started_at, at most 24 hours "
        "after it, at most a day ahead.",
    )
    step: stored(max_length=12) | None = Field(
        None, description="The key of the Sona step that handled the call."
    )
    job: Id | None = Field(None, description="The id of the job that handled it, or null.")
    job_version: Id | None = Field(
        None,
        description="The job's history version (history id); left out: the version live at "
        "started_at.",
    )
    score: float | None = Field(None, ge=0, le=1, description="The router's score, 0 to 1.")
    outcome: OutcomeValue  # type: ignore[valid-type]
    actions: list[CallAction] = Field(default_factory=list, max_length=MAX_ACTIONS)
    summary: stored(max_length=SUMMARY_MAX) = ""
    next_steps: list[stored(max_length=NEXT_STEP_MAX)] = Field(
        default_factory=list, max_length=MAX_NEXT_STEPS
    )
    transcript: stored(max_length=TRANSCRIPT_MAX) = ""
    recording_url: str | None = Field(
        None,
        max_length=RECORDING_URL_MAX,
        pattern=r"^https?://[^\s/?#\x00]+[^\s\x00]*$",
        description="An http or https URL of the recording.",
    )

    _require_text = field_validator("started_at", "ended_at", mode="before")(_iso)

    @field_validator("job_version")
    @classmethod
    def _with_its_job(cls, value, info: ValidationInfo):
        # A job that failed its own check is missing from info.data: refused once, there.
        if value is not None and "job" in info.data and info.data["job"] is None:
            raise ValueError(NAME_THE_JOB)
        return value


class CallStep(BaseModel):
    key: str
    name: str


class CallOut(BaseModel):
    """A stored call: the 201 answer of a report, its replay (200) and GET /api/v1/calls/{id}."""

    model_config = ConfigDict(title="Call")

    id: int
    source: Literal["live", "mock"]
    number: str
    external_id: str
    caller: str
    started_at: datetime
    ended_at: datetime | None
    version: int | None = Field(description="The call flow version live at started_at.")
    step: CallStep | None
    job: int | None
    job_name: str
    job_version: int | None = Field(description="The job's history id live at that moment.")
    score: float | None
    outcome: OutcomeValue  # type: ignore[valid-type]
    actions: list[dict]
    summary: str
    next_steps: list[str]
    transcript: str
    recording_url: str
    created_at: datetime


# POST /api/v1/numbers/{number}/route ------------------------------------------------------


SAID_WORDS = "Required: what the caller said, as text."
STEP_WORDS = "A Sona step's key (text, at most 12 characters), or leave it out."
MAX_HISTORY = 50
HISTORY_WORDS = f"A list of at most {MAX_HISTORY} earlier caller turns."
CURRENT_JOB_WORDS = "The id of the job chosen on an earlier turn, or null."
OPTIONS_WORDS = (
    "The two different job ids the last answer's question offered (its options), or leave it out."
)
# Not blank: a character that str.strip() keeps. Spelled out, because `\s` means other
# characters in Python, Rust (pydantic, jsonschema_rs) and JavaScript regular expressions; a
# pattern is searched for anywhere in the text, as JSON Schema reads it.
_BLANKS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
SAYS_SOMETHING = f"[^{_BLANKS}]"  # none of them is special in a character class


def _in_words(words: str):
    """A field's refusal in the API's words, whatever the check that failed (type, length,
    pattern); text over its length also says how long it is. Errors inside the value that are
    already in words (a history turn) are kept as they are."""

    def validate(value, handler, info: ValidationInfo):
        try:
            return handler(value)
        except PydanticError as exc:
            if all(e["type"] == "words" and e["loc"] for e in exc.errors()):
                raise
            if words == SAID_WORDS and isinstance(value, str) and len(value) > SAID_MAX:
                message = f"At most {SAID_MAX} characters (it has {len(value):,})."
                raise PydanticCustomError("words", message) from None
            raise PydanticCustomError("words", words) from None

    return WrapValidator(validate)


Said = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SAID_MAX, pattern=SAYS_SOMETHING),
    _in_words(SAID_WORDS),
]


class RouteAsk(BaseModel):
    """What the caller said, on which step, after what. Unknown fields are ignored."""

    model_config = ConfigDict(title="RouteRequest", strict=True, extra="ignore")

    said: Said = Field(description="What the caller said (not blank).")
    step: Annotated[str | None, _in_words(STEP_WORDS)] = Field(
        None, max_length=12, description="A Sona step's key; left out: the first Sona step."
    )
    history: Annotated[list[Said] | None, _in_words(HISTORY_WORDS)] = Field(
        None, max_length=MAX_HISTORY, description="Earlier caller turns, oldest first."
    )
    current_job: Annotated[Whole | None, _in_words(CURRENT_JOB_WORDS)] = Field(
        None, description="The job chosen on an earlier turn."
    )
    options: Annotated[
        Annotated[list[Id], Field(min_length=2, max_length=2)] | None,
        _in_words(OPTIONS_WORDS),
    ] = Field(
        None,
        description="When the last answer was a question (decision `clarify`): the ids of its "
        "two `options`, so that this turn (the caller's reply) settles it. Two different ids "
        "of jobs attached to the step; left out or null: no question is being answered.",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("options")
    @classmethod
    def _two_different(cls, value):
        if value is not None and value[0] == value[1]:
            raise PydanticCustomError("words", OPTIONS_WORDS)
        return value


class RouteMatch(BaseModel):
    id: int
    name: str
    score: float


class RouteStep(BaseModel):
    key: str
    name: str


class RouteAnswer(BaseModel):
    """One of three decisions: `job` (Sona follows `job`), `clarify` (two jobs are close: Sona
    asks `question`, and the caller's reply is routed with `options` to settle it) or `none`
    (no attached job fits: Sona says what the business can help with)."""

    model_config = ConfigDict(title="RouteAnswer")

    decision: Literal["job", "clarify", "none"] = Field(
        description="`job`: follow `job`. `clarify`: ask `question`, then send the caller's "
        "reply with `options` set to the two options' ids. `none`: no attached job fits."
    )
    job: RouteMatch | None = Field(description="The chosen job; null unless decision is `job`.")
    confidence: Literal["Sure", "Likely", "Unsure"] | None = Field(
        description="How sure the router is of `job`, in words; null unless decision is `job`."
    )
    options: list[RouteMatch] = Field(
        description="The two jobs Sona asks between (decision `clarify`), else empty."
    )
    question: str = Field(description="What Sona asks the caller (decision `clarify`), else empty.")
    runner_up: RouteMatch | None = Field(
        description="`job`: the next best job; `clarify`: the second option; `none`: the "
        "closest job (still not a fit). Null when the step has one job or none."
    )
    ambiguous: bool = Field(
        description="Deprecated: use `decision`. True exactly when decision is `clarify`; "
        "kept for runtimes that read it.",
        json_schema_extra={"deprecated": True},
    )
    no_job: bool = Field(description="True exactly when decision is `none`.")
    continued: bool = Field(
        description="The job chosen on an earlier turn (`current_job`) was kept."
    )
    actions: list[dict] = Field(description="The parsed actions of `job`; empty without one.")
    why: list[str] = Field(
        description="In words: the caller's words that matched `job` and its nearest sentence."
    )
    step: RouteStep
    version: int | None
    backend: str
    notice: str


# GET /api/v1/numbers/{number}/live ---------------------------------------------------------


class LiveJob(BaseModel):
    id: int
    name: str
    description: str
    trigger: str
    instructions: str
    actions: list[dict] = Field(description="The runtime actions parsed from the instructions.")


class LivePage(BaseModel):
    id: int
    title: str
    body: str


class LiveStep(BaseModel):
    key: str
    kind: str
    name: str
    settings: dict
    jobs: list[LiveJob] | None = Field(None, description="Sona steps only.")
    knowledge: list[LivePage] | None = Field(None, description="Sona steps only.")


class LiveVersion(BaseModel):
    number: int | None
    published_at: datetime | None


class LiveWorkspace(BaseModel):
    slug: str
    name: str


class LiveConfig(BaseModel):
    """The number's published version with the current text of its jobs and knowledge."""

    model_config = ConfigDict(title="LiveConfig")

    number: str
    display_name: str
    workspace: LiveWorkspace
    version: LiveVersion
    steps: list[LiveStep]
