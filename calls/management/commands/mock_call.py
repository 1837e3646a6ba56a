import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from calls.selectors import mock
from calls.services import clean_said, clean_turns
from core.errors import error_messages

from ._common import CallsCommand, number_for, target


class Command(CallsCommand):
    help = (
        "Run a mock call against the draft or the live version of a number's call flow and "
        "print what Sona decides on each turn: a job (how sure, in words), a question between "
        "two jobs (the next turn settles it) or no job; the runner-up, with scores and why; "
        "the job's steps, "
        "the questions it would ask, the actions it would perform and the knowledge it would "
        "quote. Read-only: nothing is sent to anyone and no call is stored. Any member of the "
        "workspace may run it."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        said = parser.add_mutually_exclusive_group(required=True)
        said.add_argument(
            "--say",
            action="append",
            metavar="TEXT",
            help="What the caller says. Give it several times for the turns of one call.",
        )
        said.add_argument(
            "--file",
            help="A UTF-8 text file: each non-empty line is the first turn of a separate call.",
        )
        parser.add_argument(
            "--step", default="", help="The Sona step's key (default: the first Sona step)."
        )

    def handle(self, *args, number, version, say, file, step, as_json, user, **options):
        calls = [clean_turns(say)] if say else _calls_in(file)
        phone = number_for(number, user, "run mock calls")
        goal = target(phone, version, step)
        if not as_json:
            self.stdout.write(
                f"Mock calls against the {goal.label} of {phone.display_name} ({phone.number}), "
                f"step “{goal.step_name}” ({goal.step_key}). Nothing is sent and nothing is "
                "stored."
            )
        for index, turns in enumerate(calls, start=1):
            routed = mock.mock_turns(goal, turns)
            for number_in_call, turn in enumerate(routed, start=1):
                if as_json:
                    self.stdout.write(_dumps(_as_json(goal, index, number_in_call, turn)))
                else:
                    self.stdout.write(_as_text(index, len(calls), number_in_call, turn))


def _calls_in(path: str) -> list[list[str]]:
    """One single-turn call per non-empty line; every line is checked before any call runs."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"Cannot read {path}: it is not UTF-8 text.") from exc
    calls = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            calls.append([clean_said(line, f"Line {number} of {path}")])
        except ValidationError as exc:
            raise CommandError(" ".join(error_messages(exc))) from exc
    if not calls:
        raise CommandError(f"{path} has no lines: write what a caller says, one call a line.")
    return calls


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def _match(match) -> tuple[str | None, float | None]:
    return (match.name, match.score) if match else (None, None)


def _as_json(goal: mock.Target, call: int, turn_number: int, turn: mock.Turn) -> dict:
    decision = turn.decision
    chosen = decision.job if turn.job is not None else None
    job, score = _match(chosen)
    runner_up, runner_up_score = _match(turn.runner_up)
    walk = turn.walkthrough
    return {
        "call": call,
        "turn": turn_number,
        "said": turn.said,
        "reply": turn.reply,
        "version": goal.label,
        "step": goal.step_key,
        "decision": turn.kind,
        "job": job,
        "job_id": chosen.id if chosen else None,
        "confidence": turn.confidence or None,
        "options": [o.name for o in decision.options] if turn.clarify else [],
        "question": decision.question if turn.clarify else "",
        "score": score,
        "runner_up": runner_up,
        "runner_up_score": runner_up_score,
        "continued": decision.continued,
        "why": list(turn.why),
        "steps": [s.text for s in walk.steps] if walk else [],
        "at_step": turn.at_step,
        "questions": list(walk.questions) if walk else [],
        "actions": [
            {"type": a.type, "label": a.label, "detail": a.detail, "say": a.say, "status": a.status}
            for a in (walk.actions if walk else ())
        ],
        "knowledge": list(turn.knowledge),
        "notices": list(turn.notices),
    }


def _as_text(call: int, calls: int, turn_number: int, turn: mock.Turn) -> str:
    decision = turn.decision
    head = f"Call {call} of {calls}, turn {turn_number}" if calls > 1 else f"Turn {turn_number}"
    lines = ["", f"{head}. Caller: “{turn.said}”", f"  Sona: “{turn.reply}”"]
    if turn.settles:
        lines.append(f"  Answers Sona's question: “{turn.settles[0]}” or “{turn.settles[1]}”.")
    lines.append(f"  Decision: {turn.decision_words}")
    if turn.job is not None:
        lines.append(f"  Job: {turn.job.name} ({turn.confidence}, score {decision.job.score:.2f})")
    if turn.clarify:
        lines.append("  The caller's next turn is routed between these two jobs to settle it.")
    if turn.runner_up is not None:
        label = "Runner-up" if turn.job is not None else "Closest job"
        lines.append(f"  {label}: {turn.runner_up.name} (score {turn.runner_up.score:.2f})")
    if turn.why:
        lines.append("  Why: " + ", ".join(turn.why))
    lines += [f"  Notice: {notice}" for notice in turn.notices]
    walk = turn.walkthrough
    if walk is not None:
        if walk.steps:
            lines.append("  Steps:")
            for step in walk.steps:
                here = "  <- Sona is here" if step.number == turn.at_step else ""
                lines.append(f"    {step.number}. {step.text}{here}")
        if walk.questions:
            lines.append("  Questions:")
            lines += [f"    - {q}" for q in walk.questions]
        if walk.actions:
            lines.append("  Actions (not sent):")
            for action in walk.actions:
                detail = f": {action.detail}" if action.detail else ""
                say = f" (Sona says first: “{action.say}”)" if action.say else ""
                lines.append(f"    - {action.label}{detail}{say} ({action.status})")
    if turn.passages:
        # Each page once, its passages under it (best first).
        lines.append("  Knowledge:")
        for title, found in turn.pages:
            lines.append(f"    - {title}")
            lines += [f"        {p.text}" for p in found]
    return "\n".join(lines)
