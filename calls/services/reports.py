"""Call reports (POST /api/v1/calls): a call the telephony runtime reports, checked against
the number's call flow and the job, stored once per idempotency key."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticError

from callflows.live import fetch_one
from core.phones import DEFAULT_REGION, normalize_phone
from core.text import bad_text, check_data, check_text
from webhooks.outbox import emit
from workspaces import audit
from workspaces.models import Workspace

from .. import rollups, schemas
from ..models import Call, DailyOutcome, Source
from ..selectors import reports
from ..selectors.log import workspace_tz

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


def _existing(workspace: Workspace, key: str, external_id: str) -> tuple[int, str] | None:
    return reports.report_existing(workspace_id=workspace.pk, key=key, external_id=external_id)


def _replay(found: tuple[int, str], digest: str) -> Call:
    pk, stored_digest = found
    if stored_digest != digest:
        raise ReportConflict(KEY_REUSED)
    return Call.objects.get(pk=pk)


@audit.write_service(atomic=False)  # one statement: the INSERT and its rollup row (_store)
def call_report(
    *, workspace: Workspace, data: dict, idempotency_key: str = "", now=None, webhooks=True
) -> tuple[Call, bool]:
    """Store a call the telephony runtime reports; returns (the call, whether it is new).

    Acts with an API token, not a user: the caller (calls/api.py) has checked the token and
    passes its workspace (`pk`, `country` and `time_zone` are all that is read). No audit
    event: a report is data the runtime sends on every call, not a change to the workspace's
    configuration; the call row itself is the record (source "live", created_at), and an event
    per call would drown the Activity page at runtime volume. Mock calls (a person's action)
    keep their event.

    Idempotent: the key (`Idempotency-Key` header, else `external_id`) and the digest of the
    report's canonical JSON are stored with the call. The same key and body again returns the
    first call (not new); another body under a used key raises ReportConflict. The unique
    constraints on the key and on the external id decide (the INSERT's ON CONFLICT DO NOTHING:
    two index probes, whatever the plan), so two identical reports at once cannot both insert:
    the loser reads the winner. Raises ValidationError ({field: message}) or UnknownNumber; a
    retry is answered as a retry even when its report would now be refused (its number deleted
    since, say).

    A new real call is counted in its day's rollup row (calls/rollups.py) atomically with its
    INSERT, and with its `call.reported` webhook messages (webhooks.outbox.emit) unless
    `webhooks` is False: the caller knows the workspace has no enabled endpoint (calls/api.py:
    the leased token lookup says so). Round trips for a new report on PostgreSQL without
    endpoints: the number with its version, step and job (1), then the INSERT with its rollup
    row in one statement (1); the token is leased (callflows/live.py). With endpoints: BEGIN,
    that statement, the endpoints, their outbox rows, COMMIT. A retry adds the stored call's
    key and the call (2).
    """
    report = _validate(data)
    key = idempotency_key or report.external_id
    if len(key) > IDEMPOTENCY_KEY_MAX or bad_text(key):
        raise ValidationError(
            {"Idempotency-Key": f"At most {IDEMPOTENCY_KEY_MAX} storable characters."}
        )
    digest = report_digest(data)
    try:
        call = _new_call(workspace, report, now=now)
    except (ValidationError, UnknownNumber):
        existing = _existing(workspace, key, report.external_id)
        if existing is None:
            raise
        return _replay(existing, digest), False
    call.idempotency_key, call.request_digest = key, digest
    if _store(call, workspace, webhooks=webhooks):
        return call, True
    # A call with this key (or external_id) is stored already: answer as a retry.
    existing = _existing(workspace, key, report.external_id)
    if existing is None:  # it vanished between the two statements (deleted): a plain retry
        raise ReportConflict("A report with this key is being changed; retry.")
    return _replay(existing, digest), False


def _new_call(workspace: Workspace, report: schemas.CallReport, *, now) -> Call:
    """The call the report describes, checked against the number's call flow and the job (not
    saved); raises ValidationError or UnknownNumber."""
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
        step_name = (context.version_steps or {}).get(step)
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

    return Call(
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
    )


def _store(call: Call, workspace: Workspace, *, webhooks: bool) -> bool:
    """INSERT the call and count it in its day's rollup row, and write its `call.reported`
    webhook messages (`webhooks`), atomically; False (nothing written) when a unique constraint
    (idempotency key, external id) already holds a call.

    `ON CONFLICT DO NOTHING` (PostgreSQL, SQLite 3.35+) rather than catching IntegrityError:
    no savepoint inside a caller's transaction, and it cannot abort that transaction. On
    PostgreSQL the INSERT and the count are one statement (a data-modifying WITH): without
    webhooks one round trip, atomic on its own, no BEGIN/COMMIT. SQLite has no such WITH: two
    statements, in the transaction."""
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(call, add=True), connection) for f in fields]
    key = rollups.call_key(call, workspace_tz(workspace))
    # its key and shard, then its counts: 1 call and its failed transfers or SMS
    counted = rollups.key_params(workspace.pk, key, rollups.report_shard())
    counted += [1, rollups.failed_actions(call.actions)]
    if connection.vendor == "postgresql" and not webhooks:
        row = fetch_one(_insert_sql(counted=True), values + counted)
        return _inserted(call, row)
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            row = fetch_one(_insert_sql(counted=True), values + counted)
        else:
            with connection.cursor() as cursor:
                cursor.execute(_insert_sql(counted=False), values)
                row = cursor.fetchone()
                if row is not None:
                    cursor.execute(
                        rollups.upsert_sql(f"VALUES ({', '.join(['%s'] * len(counted))})"),
                        counted,
                    )
        if _inserted(call, row) and webhooks:
            emit(workspace=workspace, event="call.reported", data=_reported(call))
    return row is not None


def _inserted(call: Call, row) -> bool:
    if row is None:
        return False
    call.pk = row[0]
    call._state.adding = False
    return True


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


@cache
def _insert_sql(*, counted: bool) -> str:
    """The call's INSERT (names from the model, values parameters); with `counted`, wrapped in
    a WITH whose second statement counts the inserted row (none: nothing counted)."""
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(Call._meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(Call._meta.pk.column)}"
    )
    if not counted:
        return insert
    # A SELECT's parameters have no target column to take their type from: each is cast.
    columns = {f.column: f for f in DailyOutcome._meta.concrete_fields}
    casts = [
        f"CAST(%s AS {columns[c].cast_db_type(connection)})"
        for c in ("workspace_id", *rollups.DIMENSIONS, "shard", "count", "failed_actions")
    ]
    count = rollups.upsert_sql(f"SELECT {', '.join(casts)} FROM new")  # noqa: S608
    return f"WITH new AS ({insert}), counted AS ({count}) SELECT * FROM new"  # noqa: S608
