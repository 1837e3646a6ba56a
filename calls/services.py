"""Writes of the calls app: mock calls end as stored calls, scenarios are saved and deleted.
Each takes the acting user, checks the role through require_role and records its audit event in
the same transaction. Nothing here ever sends an SMS or places a call."""

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from pydantic import ValidationError as PydanticError

from callflows import live
from callflows.models import CallFlow
from jobs.models import Job
from workspaces import audit
from workspaces.models import User, Workspace
from workspaces.permissions import EDIT, READ, require_role
from workspaces.phones import DEFAULT_REGION, normalize_phone
from workspaces.text import bad_text, check_data, check_text

from . import scenarios, schemas
from .models import SAID_MAX, TRANSCRIPT_MAX, Call, Outcome, Scenario, Source
from .selectors import mock, reports

MAX_TURNS = 30


def clean_said(said, what: str = "What the caller says") -> str:
    """One caller turn: text, not empty, at most SAID_MAX characters, storable."""
    if not isinstance(said, str):
        raise ValidationError(f"{what} must be text.", code="said")
    said = " ".join(said.split())
    if not said:
        raise ValidationError(f"{what} is empty: type what the caller says.", code="said")
    if len(said) > SAID_MAX:
        raise ValidationError(
            f"{what} can be at most {SAID_MAX} characters (it has {len(said):,}).", code="said"
        )
    check_text(said, what)
    return said


def clean_turns(turns) -> list[str]:
    turns = [clean_said(t, f"Turn {i}") for i, t in enumerate(turns or [], start=1)]
    if not turns:
        raise ValidationError("Say something first: a mock call needs at least one turn.")
    if len(turns) > MAX_TURNS:
        raise ValidationError(f"A mock call can have at most {MAX_TURNS} turns.")
    return turns


# Mock calls ---------------------------------------------------------------------------------


def _handled_by(turns: list[mock.Turn]) -> mock.Turn | None:
    """The turn whose job the call ended on: the last turn with a job, unless the call ended
    on Sona's question (a clarify nobody answered): then no job handled it."""
    if turns and turns[-1].clarify:
        return None
    return next((t for t in reversed(turns) if t.job is not None), None)


def _outcome(turns: list[mock.Turn]) -> tuple[str, list[dict]]:
    """What the call would have ended as, and the actions that would have run (never sent).
    Ended on a question: the caller hung up before answering it."""
    last = _handled_by(turns)
    if last is None:
        asked = bool(turns) and turns[-1].clarify
        return (Outcome.CALLER_HUNG_UP if asked else Outcome.NO_JOB_MATCHED), []
    done = [
        {
            "type": a.type,
            "status": "not_sent",
            "detail": a.label
            + (f": {a.detail}" if a.detail else "")
            + (f" (Sona says first: “{a.say}”)" if a.say else ""),
        }
        for a in last.walkthrough.actions
    ]
    types = {a["type"] for a in done}
    if "transfer_call" in types:
        return Outcome.TRANSFERRED, done
    if "send_sms" in types:
        return Outcome.SMS_SENT, done
    return Outcome.RESOLVED, done


def _summary(goal: mock.Target, turns: list[mock.Turn], done: list[dict]) -> str:
    """What happened, turn by turn where the decision changed: each new job is named on the
    turn that chose it (turns that continue a job are not repeated)."""
    lines = [f"Mock call against the {goal.label}, {goal.step_name}."]
    previous = None
    for number, turn in enumerate(turns, start=1):
        if turn.job is not None and previous is not None and previous.job == turn.job:
            previous = turn
            continue  # continuing the same job
        lines.append(f"Turn {number}: the caller said “{turn.said}”. {turn.decision_words}")
        previous = turn
    if turns and turns[-1].clarify:
        lines.append("The call ended before the caller answered, so no job handled it.")
    elif done:
        lines.append("It would have: " + "; ".join(a["detail"] for a in done) + ".")
    lines.append("Nothing was sent to anyone: this was a mock call.")
    return " ".join(lines)[:5_000]


def _transcript(turns: list[mock.Turn]) -> str:
    """What the caller said and what Sona said back, with the decision in brackets."""
    lines = []
    for turn in turns:
        lines.append(f"Caller: {turn.said}")
        if turn.clarify:
            lines.append(f"Sona [asks which]: {turn.reply or turn.decision.question}")
        elif turn.job is None:
            lines.append(f"Sona [no job fits]: {turn.reply}")
        else:
            lines.append(f"Sona [{turn.job.name}, {turn.confidence or 'Unsure'}]: {turn.reply}")
    return "\n".join(lines)[:TRANSCRIPT_MAX]


def _history_id(job: Job | None) -> int | None:
    if job is None:
        return None
    row = job.history.order_by("-history_date", "-history_id").values("history_id").first()
    return row["history_id"] if row else None


@audit.write_service
def mock_call_end(
    *,
    call_flow: CallFlow,
    user: User,
    turns: list[str],
    version: str = mock.DRAFT,
    step_key: str = "",
    replies: list[str] | None = None,
) -> Call:
    """Store a finished mock call as a call with its summary (source "mock"). The turns are
    routed again here, by the same router, so the stored call is what the router decides."""
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, READ, "run mock calls")
    said = clean_turns(turns)
    goal = mock.target(call_flow=call_flow, version=version, step_key=step_key)
    routed = mock.mock_turns(goal, said, replies=list(replies or []))
    outcome, done = _outcome(routed)
    handled = _handled_by(routed)
    job = handled.job if handled else None
    now = timezone.now()
    call = Call.objects.create(
        workspace=workspace,
        phone_number=call_flow.phone_number,
        number=call_flow.phone_number.number,
        source=Source.MOCK,
        caller="anonymous",
        started_at=now,
        ended_at=now,
        version_number=goal.version_number,
        step_key=goal.step_key,
        step_name=goal.step_name,
        job=job,
        job_name=job.name if job else "",
        job_history_id=_history_id(job),
        score=handled.decision.job.score if handled else None,
        outcome=outcome,
        actions=done,
        summary=_summary(goal, routed, done),
        next_steps=[a["detail"] for a in done],
        transcript=_transcript(routed),
        created_by=user,
    )
    audit.record(
        user=user,
        workspace=workspace,
        action="call.mock_ended",
        obj=call,
        label=f"Mock call on {call_flow.phone_number.display_name}",
        details={
            "version": goal.label,
            "job": call.job_name,
            "outcome": outcome,
            "decision": routed[-1].kind,
        },
    )
    return call


# Scenarios ----------------------------------------------------------------------------------


def _job_names(workspace: Workspace) -> dict[str, str]:
    """The workspace's jobs not deleted, lowered name → name (an expectation names one)."""
    names = Job.objects.filter(workspace=workspace, deleted_at__isnull=True).values_list(
        "name", flat=True
    )
    return {name.lower(): name for name in names}


def _sona_keys(flow: CallFlow) -> set[str]:
    """The Sona step keys of the draft and the live version (a scenario of either is fine)."""
    keys = {s.key for s in flow.steps.filter(kind="sona")}
    if flow.live_version_id:
        keys |= {s["key"] for s in mock.sona_steps(flow.live_version.snapshot)}
    return keys


def _scenario_fields(
    workspace: Workspace, *, name, turns, expect, runs, pass_rate, job_names=None
) -> dict:
    """Every field checked; errors name their field ("name", "expect.job", …)."""
    turns = scenarios.clean_turns(turns)
    return {
        "name": scenarios.clean_name(name),
        "turns": turns,
        "expect": scenarios.clean_expect(
            expect,
            turns=len(turns),
            job_names=_job_names(workspace) if job_names is None else job_names,
            region=workspace.country,
        ),
        "runs": scenarios.clean_runs(runs),
        "pass_rate": scenarios.clean_pass_rate(pass_rate),
    }


def _name_taken(flow: CallFlow, step_key: str, name: str, exclude: int | None = None) -> bool:
    found = Scenario.objects.filter(call_flow=flow, step_key=step_key, name__iexact=name)
    return found.exclude(pk=exclude).exists() if exclude else found.exists()


def _taken_error(name: str) -> ValidationError:
    return ValidationError({"name": [f"This step already has a scenario named “{name}”."]})


def _saved(scenario: Scenario) -> None:
    """One-turn scenarios are examples of their job's intent: the live line's routing changes."""
    live.number_changed(scenario.call_flow.phone_number_id)


@audit.write_service
def scenario_create(
    *,
    call_flow: CallFlow,
    user: User,
    step_key: str,
    name: str,
    turns: list[str],
    expect: dict,
    runs: int = 1,
    pass_rate: int = 100,
) -> Scenario:
    """A scenario of the Sona step `step_key` (of the draft or the live version)."""
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "save scenarios")
    values = _scenario_fields(
        workspace, name=name, turns=turns, expect=expect, runs=runs, pass_rate=pass_rate
    )
    flow = CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    if step_key not in _sona_keys(flow):
        raise ValidationError("That Sona step is not in this call flow.")
    if _name_taken(flow, step_key, values["name"]):
        raise _taken_error(values["name"])
    try:
        with transaction.atomic():
            scenario = Scenario.objects.create(
                call_flow=flow, step_key=step_key, created_by=user, **values
            )
    except IntegrityError:  # the same name saved at the same moment by someone else
        raise _taken_error(values["name"]) from None
    _saved(scenario)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.created",
        obj=scenario,
        label=scenario.name,
        details={"step": step_key, "turns": len(values["turns"]), "expect": values["expect"]},
    )
    return scenario


@audit.write_service
def scenario_update(
    *,
    scenario: Scenario,
    user: User,
    name: str,
    turns: list[str],
    expect: dict,
    runs: int = 1,
    pass_rate: int = 100,
) -> Scenario:
    """Change every field of a scenario but its step."""
    call_flow = scenario.call_flow
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "change scenarios")
    values = _scenario_fields(
        workspace, name=name, turns=turns, expect=expect, runs=runs, pass_rate=pass_rate
    )
    CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    current = Scenario.objects.filter(pk=scenario.pk).first()
    if current is None:
        raise ValidationError("That scenario was deleted.")
    if _name_taken(call_flow, current.step_key, values["name"], exclude=current.pk):
        raise _taken_error(values["name"])
    before = {f: getattr(current, f) for f in values}
    for key, value in values.items():
        setattr(current, key, value)
    current.save()
    _saved(current)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.changed",
        obj=current,
        label=current.name,
        details={"step": current.step_key, "before": before, "after": values},
    )
    return current


@audit.write_service
def scenario_delete(*, scenario: Scenario, user: User) -> None:
    call_flow = scenario.call_flow
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "delete scenarios")
    deleted, _ = Scenario.objects.filter(pk=scenario.pk).delete()
    if not deleted:
        raise ValidationError("That scenario was already deleted.")
    _saved(scenario)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.deleted",
        obj=None,
        label=scenario.name,
        details={"step": scenario.step_key, "id": scenario.pk, "turns": scenario.turns},
    )


@dataclass(frozen=True)
class ImportResult:
    step_key: str
    created: list[str]
    replaced: list[str]


@audit.write_service
def scenarios_import(*, call_flow: CallFlow, user: User, text: str) -> ImportResult:
    """A scenarios file (calls/scenarios.py, YAML): each scenario added, or replacing the one of
    the same name (case-insensitively), all or nothing. A bad file changes nothing; its error
    names the scenario and the field."""
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "import scenarios")
    step_key, records = scenarios.parse_file(text)
    flow = CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    if not step_key:
        sona = flow.steps.filter(kind="sona").order_by("position").first()
        if sona is None:
            raise ValidationError("The file names no step and the draft has no Sona step.")
        step_key = sona.key
    elif step_key not in _sona_keys(flow):
        raise ValidationError(f"step: the call flow has no Sona step “{step_key}”.")
    names = _job_names(workspace)
    cleaned, seen = [], set()
    for index, record in enumerate(records, start=1):
        try:
            values = _scenario_fields(workspace, **record, job_names=names)
        except ValidationError as exc:
            raise scenarios.file_error(index, record.get("name"), exc) from None
        if values["name"].lower() in seen:
            raise scenarios.file_error(
                index, values["name"], _taken_error(values["name"]), "appears twice in the file"
            )
        seen.add(values["name"].lower())
        cleaned.append(values)
    existing = {
        s.name.lower(): s for s in Scenario.objects.filter(call_flow=flow, step_key=step_key)
    }
    created, replaced = [], []
    for values in cleaned:
        found = existing.get(values["name"].lower())
        if found is None:
            Scenario.objects.create(call_flow=flow, step_key=step_key, created_by=user, **values)
            created.append(values["name"])
        else:
            for key, value in values.items():
                setattr(found, key, value)
            found.save()
            replaced.append(values["name"])
    live.number_changed(flow.phone_number_id)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.imported",
        obj=None,
        label=f"{len(cleaned)} scenario(s) imported",
        details={"step": step_key, "created": created, "replaced": replaced},
    )
    return ImportResult(step_key, created, replaced)


# Retention ----------------------------------------------------------------------------------

PRUNE_BATCH = 5_000
# A batch slower than this halves the next one (down to PRUNE_MIN_BATCH); one faster than a
# fifth of it doubles the next (up to the batch size asked for), so a slow disk or wide rows
# (transcripts) do not make one transaction hold its row locks long.
PRUNE_BATCH_TARGET = 0.5
PRUNE_MIN_BATCH = 100


class _Sizer:
    def __init__(self, largest: int):
        self.largest = self.size = largest

    def __call__(self) -> int:
        return self.size

    def took(self, seconds: float) -> None:
        if seconds > PRUNE_BATCH_TARGET:
            self.size = max(min(PRUNE_MIN_BATCH, self.largest), self.size // 2)
        elif seconds < PRUNE_BATCH_TARGET / 5:
            self.size = min(self.largest, self.size * 2)


@dataclass(frozen=True)
class PruneResult:
    """What calls_prune did (or, on a dry run, would do) in one workspace."""

    workspace: Workspace
    call_days: int
    transcript_days: int | None
    calls_deleted: int
    transcripts_cleared: int
    dry_run: bool


def _old_calls(workspace: Workspace, before: datetime) -> QuerySet:
    # Served by the call_recent index (workspace, started_at, id), read from its old end.
    return Call.objects.filter(workspace=workspace, started_at__lt=before)


def _id_batches(calls: QuerySet, size: Callable[[], int]) -> Iterator[list[int]]:
    """The ids of `calls`, oldest first, `size` at a time. Keyset on (started_at, id): each
    batch's query starts where the last one ended, so it never walks over the rows (or dead
    index entries) of the batches already done, and calls inserted meanwhile are no obstacle."""
    last = None
    while True:
        page = calls
        if last is not None:
            page = page.filter(started_at__gte=last[0]).exclude(started_at=last[0], pk__lte=last[1])
        rows = list(page.order_by("started_at", "pk").values_list("started_at", "pk")[: size()])
        if not rows:
            return
        yield [pk for _, pk in rows]
        last = rows[-1]


def _timed(on_batch, sizer: _Sizer, kind: str, work: Callable[[], int]) -> int:
    """Run one batch in its own short transaction; report its size and duration."""
    started = time.perf_counter()
    with transaction.atomic():
        done = work()
    seconds = time.perf_counter() - started
    sizer.took(seconds)
    if on_batch is not None:
        on_batch(kind, done, seconds)
    return done


def calls_prune(
    *,
    workspace: Workspace | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = PRUNE_BATCH,
    on_batch: Callable[[str, int, float], None] | None = None,
) -> list[PruneResult]:
    """Apply each workspace's retention (or one workspace's): delete its calls started more than
    `call_retention_days` ago, then clear the transcripts (summaries kept) of calls started more
    than `transcript_retention_days` ago. A dry run counts and changes nothing.

    A system job, not a write on anyone's behalf: no acting user and no role check, since it
    only enforces what each owner set (workspace_set_retention checks that role). Each batch of
    at most `batch_size` ids is its own transaction, deleting or updating by primary key: it
    locks only those rows, briefly (a slow batch halves the next), so reports inserting new calls (POST /api/v1/calls) and
    the pages go on meanwhile. Run it outside any transaction (the command does). Each
    workspace where something changed gets one `call.pruned` audit event, without an actor.
    `on_batch(kind, rows, seconds)` is told about every batch (the bench times them).
    """
    if batch_size < 1:
        raise ValidationError("The batch size must be at least 1.")
    now = now or timezone.now()
    workspaces = [workspace] if workspace is not None else Workspace.objects.order_by("slug", "pk")
    results = []
    for ws in workspaces:
        ws.refresh_from_db(fields=["call_retention_days", "transcript_retention_days"])
        results.append(_prune_workspace(ws, now, dry_run, batch_size, on_batch))
    return results


def _prune_workspace(ws: Workspace, now, dry_run, batch_size, on_batch) -> PruneResult:
    call_cutoff = now - timedelta(days=ws.call_retention_days)
    transcript_days = ws.transcript_retention_days
    old_calls = _old_calls(ws, call_cutoff)
    old_transcripts = None
    if transcript_days is not None and transcript_days < ws.call_retention_days:
        transcript_cutoff = now - timedelta(days=transcript_days)
        old_transcripts = (
            _old_calls(ws, transcript_cutoff)
            .filter(started_at__gte=call_cutoff)
            .exclude(transcript="")
        )
    if dry_run:
        deleted = old_calls.count()
        cleared = old_transcripts.count() if old_transcripts is not None else 0
    else:
        deleted = cleared = 0
        sizer = _Sizer(batch_size)
        for ids in _id_batches(old_calls, sizer):
            deleted += _timed(
                on_batch,
                sizer,
                "delete",
                # Re-checked by date: an id is never a newer call than the batch read.
                lambda ids=ids: Call.objects.filter(
                    pk__in=ids, started_at__lt=call_cutoff
                ).delete()[0],
            )
        if old_transcripts is not None:
            for ids in _id_batches(old_transcripts, sizer):
                cleared += _timed(
                    on_batch,
                    sizer,
                    "transcripts",
                    lambda ids=ids: (
                        Call.objects.filter(pk__in=ids).exclude(transcript="").update(transcript="")
                    ),
                )
        if deleted or cleared:
            with transaction.atomic():
                audit.record(
                    user=None,
                    workspace=ws,
                    action="call.pruned",
                    label=f"{deleted:,} calls deleted, {cleared:,} transcripts cleared",
                    details={
                        "calls_deleted": deleted,
                        "transcripts_cleared": cleared,
                        "call_days": ws.call_retention_days,
                        "transcript_days": transcript_days,
                    },
                )
    return PruneResult(ws, ws.call_retention_days, transcript_days, deleted, cleared, dry_run)


# Call reports (POST /api/v1/calls) ----------------------------------------------------------

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


@audit.write_service(atomic=False)  # one INSERT, atomic by itself (see _insert_new)
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

    Queries for a new report: the key (1), the number with its version, step and job (1), the
    insert (1); the caller's token lookup makes 4. A retry: the key, then the stored call.
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
    if _insert_new(call):
        return call, True
    # Another request with this key (or external_id) committed first: answer as a retry.
    existing = _existing(workspace, key, report.external_id)
    if existing is None:  # it vanished between the two statements (deleted): a plain retry
        raise ReportConflict("A report with this key is being changed; retry.")
    return _replay(existing, digest), False


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
