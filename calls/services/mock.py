"""Mock calls: the caller's turns checked, and a finished mock call stored as a call (source
"mock") with its summary and transcript."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from callflows.models import CallFlow
from core.text import check_text
from jobs.models import Job
from workspaces import audit
from workspaces.models import User
from workspaces.permissions import READ, require_role

from ..models import SAID_MAX, TRANSCRIPT_MAX, Call, Outcome, Source
from ..selectors import mock

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
