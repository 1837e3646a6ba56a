"""GET /api/v1/outcomes: real calls and the share of each outcome, with its 95% interval, for a
number, a Sona step and/or a job over a range of days: the figures of the pages
(outcomes/selectors.py), read from the daily rollups.

An operation of the one runtime API (calls/api.py's NinjaAPI, so one OpenAPI document and one
error shape): outcomes sits above calls, so calls cannot import this router; the outcomes app
adds it to the API when it is ready (outcomes/apps.py), and config/urls.py serves it
(outcomes/api_urls.py)."""

import re
from datetime import date, timedelta
from typing import Annotated

from django.http import JsonResponse
from ninja import Query, Router
from pydantic import WithJsonSchema

from callflows.models import PhoneNumber
from calls import schemas as calls_schemas
from calls.auth import RuntimeToken
from calls.schemas import Error, FieldErrors
from core import jsonapi
from jobs.models import Job
from workspaces.models import Workspace

from . import schemas, selectors

router = Router(tags=["outcomes"])

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
NUMBER = r"^(\+[1-9][0-9]{6,14}|[1-9][0-9]{0,17})$"
BAD_DATE = "Not a date: write it as YYYY-MM-DD."
MAX_DAYS = 3660  # about ten years: a range longer than any retention
UNKNOWN_NUMBER = "No such number in this workspace."
UNKNOWN_JOB = "No such job in this workspace."
UNKNOWN_PARAMETER = "Unknown parameter: use number, step, job, from and to."
PARAMETERS = {"number", "step", "job", "from", "to"}
MAX_ID = 2**63 - 1  # a bigint: a larger id is no job, not a database error

DateParam = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
NumberParam = Query(None, description="A number of the workspace: E.164 or its id.", pattern=NUMBER)
StepParam = Query(
    None, description="A step key.", min_length=1, max_length=12, pattern=calls_schemas.STORABLE
)
JobParam = Query(None, description="A job's id.", ge=1, le=MAX_ID)
FromParam = Query(None, alias="from", description="The first day, YYYY-MM-DD.")
ToParam = Query(None, description="The last day, YYYY-MM-DD, inclusive.")


def _day(value: str | None, field: str, errors: dict) -> date | None:
    if value is None:
        return None
    try:
        if not DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = BAD_DATE
        return None


@router.get(
    "/outcomes",
    url_name="outcomes",
    operation_id="outcomes",
    summary="Read outcome figures",
    description="Real calls (never mock calls) and the share of each outcome with its 95% "
    "Wilson interval, for a number, a Sona step and/or a job (none: the whole workspace), from "
    "`from` to `to` (days in the workspace's time zone, inclusive; default the last 30 days). "
    "Under 30 calls the shares are null and `too_few_calls` is true. The same figures as the "
    "job and number pages.",
    auth=RuntimeToken(),
    response={200: schemas.OutcomeFigures, 400: FieldErrors, 401: Error, 404: Error, 429: Error},
)
def outcomes(
    request,
    number: str | None = NumberParam,
    step: str | None = StepParam,
    job: int | None = JobParam,
    from_: DateParam | None = FromParam,
    to: DateParam | None = ToParam,
):
    workspace_id = request.auth.workspace_id
    # A misspelt parameter ("form", "job_id") would silently widen the figures: refused.
    errors = {name: UNKNOWN_PARAMETER for name in request.GET if name not in PARAMETERS}
    start, end = _day(from_, "from", errors), _day(to, "to", errors)
    if errors:
        return jsonapi.field_errors(errors)
    workspace = Workspace.objects.only("time_zone", "country").get(pk=workspace_id)
    if end is None:  # today, or the day asked from if it is later
        end = max(selectors.default_range(workspace)[1], start or date.min)
    if start is None:  # the 30 days up to `to` (or from the first day there is)
        start = end - timedelta(days=min(selectors.DEFAULT_DAYS - 1, (end - date.min).days))
    if end < start:
        return jsonapi.field_errors({"to": "Is before from."})
    if (end - start).days >= MAX_DAYS:
        return jsonapi.field_errors({"to": f"The range is longer than {MAX_DAYS} days."})
    phone = None
    if number is not None:
        numbers = PhoneNumber.objects.filter(workspace_id=workspace_id)
        if number.startswith("+"):  # E.164: the number in use (a deleted one by its id)
            numbers = numbers.live().filter(number=number)
        else:
            numbers = numbers.filter(pk=int(number))
        phone = numbers.only("number").first()
        if phone is None:
            return jsonapi.error(UNKNOWN_NUMBER, 404)
    if job is not None and not Job.objects.filter(workspace_id=workspace_id, pk=job).exists():
        return jsonapi.error(UNKNOWN_JOB, 404)
    figures = selectors.outcome_figures(
        workspace=workspace,
        start=start,
        end=end,
        phone_number_id=phone.pk if phone else None,
        step_key=step,
        job_id=job,
    )
    return JsonResponse(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "number": phone.number if phone else None,
            "step": step,
            "job": job,
            "calls": figures.calls,
            "too_few_calls": not figures.enough,
            "outcomes": {s.outcome: _share(s.rate) for s in figures.shares},
        }
    )


def _share(rate) -> dict:
    if not rate.enough:
        return {"count": rate.k, "share": None, "low": None, "high": None}
    low, high = rate.interval
    return {
        "count": rate.k,
        "share": round(rate.share, 4),
        "low": round(low, 4),
        "high": round(high, 4),
    }
