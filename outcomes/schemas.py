"""The body of GET /api/v1/outcomes as the OpenAPI document shows it (outcomes/api.py)."""

from pydantic import BaseModel, ConfigDict, Field, create_model

from calls.models import Outcome
from outcomes.stats import MIN_CALLS


class OutcomeShare(BaseModel):
    count: int = Field(ge=0, description="Real calls that ended with this outcome.")
    share: float | None = Field(
        ge=0, le=1, description=f"count / calls; null under {MIN_CALLS} calls."
    )
    low: float | None = Field(ge=0, le=1, description="The 95% Wilson interval's lower end.")
    high: float | None = Field(ge=0, le=1, description="Its upper end.")


# One field per outcome, in the model's order: {"resolved": {...}, "message_taken": {...}, ...}
OutcomeShares = create_model(
    "OutcomeShares",
    __config__=ConfigDict(extra="forbid"),
    __doc__="Every outcome, each with its count and share.",
    **{value: (OutcomeShare, ...) for value in Outcome.values},
)


class _Figures(BaseModel):
    to: str = Field(description="The last day counted, inclusive.")
    number: str | None = Field(description="The number's E.164, when asked for one.")
    step: str | None = Field(description="The step key, when asked for one.")
    job: int | None = Field(description="The job's id, when asked for one.")
    calls: int = Field(ge=0, description="Real calls (never mock calls).")
    too_few_calls: bool = Field(description=f"Fewer than {MIN_CALLS} calls: no shares.")
    outcomes: OutcomeShares  # type: ignore[valid-type]


# "from" is a Python keyword: the field is named as the document names it, not aliased (the
# document shows a field's name, not its alias).
OutcomeFigures = create_model(
    "OutcomeFigures",
    __base__=_Figures,
    __doc__="Real calls and each outcome's share from `from` to `to`.",
    **{"from": (str, Field(description="The first day counted (in the workspace's zone)."))},
)
