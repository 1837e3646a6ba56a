"""Call reports (POST /api/v1/calls): a call the telephony runtime reports, checked against
the number's call flow and the job, stored once per idempotency key."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticError

from core.phones import DEFAULT_REGION, normalize_phone
from core.text import bad_text, check_data, check_text
from webhooks.outbox import emit
from workspaces import audit
from workspaces.models import Workspace

from .. import rollups, schemas
from ..models import Call, Source
from ..selectors import reports

# How far ahead a runtime's clock may run (a clock set in the wrong zone is hours off); a time
# further ahead is a broken clock, refused.
CLOCK_SKEW = timedelta(days=1)
EARLIEST_CALL = datetime(2000, 1, 1, tzinfo=UTC)  # no telephony runtime reports older calls
LONGEST_CALL = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255
UNKNOWN_NUMBER = "Unknown phone number."
KEY_REUSED = (
    "This Idempotency-Key (or external_id) was already used for a different report: a retry "
    "must send the same body; a new call needs a new key."
)


class UnknownNumber(Exception):
    """The reported number is not one of the token's workspace's numbers (answered 404)."""


class ReportConflict(Exception):
    """The key was used before with another body (answered 409)."""


def report_digest(data: dict) -> str:
    """The digest of a report's canonical JSON (keys sorted, no spaces): what makes a retry the
    same report whatever order the runtime's JSON library writes the keys in."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _field(loc: tuple) -> str:
    name = str(loc[0]) if loc else "body"
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def _validate(data) -> schemas.CallReport:
    """The report's shape, types and sizes (calls/schemas.py, the OpenAPI document's schema)."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    errors = {}
    for key, value in data.items():
        try:
            check_text(str(key), "A field name")
            check_data(value, key)
        except ValidationError as exc:
            errors[str(key) if not bad_text(str(key)) else "body"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    try:
        return schemas.CallReport.model_validate(data)
    except PydanticError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            errors.setdefault(_field(error["loc"]), message)
        raise ValidationError(errors) from None


def call_times_check(started_at: datetime, ended_at: datetime | None, *, now=None) -> dict:
    """The one rule for the times of a recorded call: {field: why} for each refused time, empty
    when they hold. From 2000-01-01 on, not more than CLOCK_SKEW (a day) ahead, ended_at not
    before started_at and at most LONGEST_CALL after it. Also keeps every stored time far from
    the ends of what a datetime holds, so no page, export or time zone ever overflows."""
    now = now or timezone.now()
    errors = {}
    times = {"started_at": started_at, "ended_at": ended_at}
    for name, value in times.items():
        if value is None:
            continue
        if value < EARLIEST_CALL:
            errors[name] = f"Is before {EARLIEST_CALL:%Y-%m-%d}: check the runtime's clock."
        elif value > now + CLOCK_SKEW:
            errors[name] = "Is more than a day in the future: check the runtime's clock."
    if errors or ended_at is None:
        return errors
    if ended_at < started_at:
        errors["ended_at"] = "Is before started_at."
    elif ended_at - started_at > LONGEST_CALL:
        errors["ended_at"] = f"The call lasts more than {LONGEST_CALL.days * 24} hours."
    return errors


def _phone(raw: str, region: str, field: str, errors: dict) -> str:
    try:
        return normalize_phone(raw, region=region)
    except ValidationError as exc:
        errors[field] = exc.messages[0]
        return ""


def _step_name(snapshot: dict | None, key: str) -> str | None:
    for s in (snapshot or {}).get("steps", []):
        if s.get("key") == key and s.get("kind") == "sona":
            return s.get("name", "")
    return None


def _existing(workspace: Workspace, key: str, external_id: str) -> tuple[int, str] | None:
    return reports.report_existing(workspace_id=workspace.pk, key=key, external_id=external_id)


def _replay(found: tuple[int, str], digest: str) -> Call:
    pk, stored_digest = found
    if stored_digest != digest:
        raise ReportConflict(KEY_REUSED)
    return Call.objects.get(pk=pk)


@audit.write_service(atomic=False)  # the INSERT and its rollup row: one transaction (_insert_new)
def call_report(
    *, workspace: Workspace, data: dict, idempotency_key: str = "", now=None
) -> tuple[Call, bool]:
    """Store a call the telephony runtime reports; returns (the call, whether it is new).

    Acts with an API token, not a user: the caller (calls/api.py) has checked the token and
    passes its workspace (`pk` and `country` are all that is read). No audit event: a report is
    data the runtime sends on every call, not a change to the workspace's configuration; the
    call row itself is the record (source "live", created_at), and an event per call would drown
    the Activity page at runtime volume. Mock calls (a person's action) keep their event.

    Idempotent: the key (`Idempotency-Key` header, else `external_id`) and the digest of the
    report's canonical JSON are stored with the call. The same key and body again returns the
    first call (not new); another body under a used key raises ReportConflict. Two identical
    reports at once cannot both insert: the unique constraints decide, and the loser reads the
    winner. Raises ValidationError ({field: message}) or UnknownNumber.

    A new real call is counted in its day's rollup row (calls/rollups.py) in the insert's
    transaction. Queries for a new report: the key (1), the number with its version, step and
    job (1), the insert and the rollup upsert (2); the caller's token lookup makes 5. A retry: the key, then the stored call.
    """
    report = _validate(data)
    key = idempotency_key or report.external_id
    if len(key) > IDEMPOTENCY_KEY_MAX or bad_text(key):
        raise ValidationError(
            {"Idempotency-Key": f"At most {IDEMPOTENCY_KEY_MAX} storable characters."}
        )
    digest = report_digest(data)
    existing = _existing(workspace, key, report.external_id)
    if existing is not None:
        return _replay(existing, digest), False

    errors: dict = {}
    region = workspace.country or DEFAULT_REGION
    number = _phone(report.number, region, "number", errors)
    caller = (
        "anonymous"
        if report.caller == "anonymous"
        else _phone(report.caller, region, "caller", errors)
    )
    errors.update(call_times_check(report.started_at, report.ended_at, now=now))
    if report.job_version is not None and report.job is None:
        errors["job_version"] = "Name the job too: a job version belongs to a job."
    if errors:
        raise ValidationError(errors)

    step = report.step or ""
    context = reports.report_context(
        workspace_id=workspace.pk,
        number=number,
        started_at=report.started_at,
        step=step,
        job=report.job,
        job_version=report.job_version,
    )
    if context is None:
        raise UnknownNumber(UNKNOWN_NUMBER)
    step_name = ""
    if step:
        step_name = _step_name(context.version_snapshot, step)
        if step_name is None:
            step_name = context.draft_step_name
        if step_name is None and context.call_flow_id is not None:
            step_name = reports.step_name_in_any_version(
                call_flow_id=context.call_flow_id, step=step
            )
        if step_name is None:
            errors["step"] = "Not a Sona step of this number's call flow (draft or any version)."
    if report.job is not None:
        if context.job_name is None:
            errors["job"] = "No job with this id in the workspace."
        elif report.job_version is not None and context.job_history_id is None:
            errors["job_version"] = "Not a history version of this job."
    if errors:
        raise ValidationError(errors)

    call = Call(
        workspace_id=workspace.pk,
        phone_number_id=context.phone_id,
        number=number,
        source=Source.LIVE,
        external_id=report.external_id,
        caller=caller,
        started_at=report.started_at,
        ended_at=report.ended_at,
        version_number=context.version_number,
        step_key=step,
        step_name=step_name or "",
        job_id=report.job,
        job_name=(context.job_history_name or context.job_name or "")[:100],
        job_history_id=context.job_history_id,
        score=report.score,
        outcome=report.outcome,
        actions=[a.model_dump() for a in report.actions],
        summary=report.summary,
        next_steps=report.next_steps,
        transcript=report.transcript,
        recording_url=report.recording_url or "",
        idempotency_key=key,
        request_digest=digest,
    )
    # savepoint=False: in a caller's transaction no SAVEPOINT round trips (the upsert cannot
    # fail short of the connection failing, which ends the caller's transaction anyway).
    with transaction.atomic(savepoint=False):
        inserted = _insert_new(call)
        if inserted:
            rollups.count_call(call, workspace)
            emit(workspace=workspace, event="call.reported", data=_reported(call))
    if inserted:
        return call, True
    # Another request with this key (or external_id) committed first: answer as a retry.
    existing = _existing(workspace, key, report.external_id)
    if existing is None:  # it vanished between the two statements (deleted): a plain retry
        raise ReportConflict("A report with this key is being changed; retry.")
    return _replay(existing, digest), False


def _reported(call: Call) -> dict:
    """The `call.reported` webhook message's data."""
    return {
        "id": call.pk,
        "number": call.number,
        "step": call.step_key,
        "job_id": call.job_id,
        "job_name": call.job_name,
        "job_history_id": call.job_history_id,
        "outcome": call.outcome,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "summary": call.summary,
    }


def _insert_new(call: Call) -> bool:
    """INSERT the call unless a unique constraint (idempotency key, external id) already holds
    one: `ON CONFLICT DO NOTHING` (PostgreSQL, SQLite 3.35+). Unlike catching IntegrityError it
    needs no savepoint inside a caller's transaction, and it cannot abort that transaction."""
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(call, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Call._meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(Call._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    call.pk = row[0]
    call._state.adding = False
    return True
