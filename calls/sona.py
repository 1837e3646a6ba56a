"""How Sona would work through a job, shown in a mock call: its numbered steps, the questions it
would ask and the actions it would perform, each marked "not sent". Reads the job's own words
(jobs/actions.py is the one marker grammar); nothing here sends anything to anyone."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from jobs import actions
from workspaces.phones import normalize_phone

NOT_SENT = "not sent"
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_QUOTED_QUESTION = re.compile(r"[\"“]([^\"”]{3,200}\?)[\"”]")
_ASK = re.compile(
    r"\bAsk\b[^:.\n]*?(?:\bfor\b|\bwhat\b|\bwhen\b|\bif\b|\bwhether\b)\s+([^.\n]{3,150})"
)
_SENTENCE_QUESTION = re.compile(r"(?:^|(?<=[.!:]\s))([A-Z][^.!?\n\"“”]{3,150}\?)")


@dataclass(frozen=True)
class Step:
    number: int
    text: str  # markers shown as plain words ("Send SMS: …")


@dataclass(frozen=True)
class ShownAction:
    type: str
    label: str  # "Send SMS to the caller" / "Transfer call to Front desk (+15555550100)"
    detail: str  # the SMS text
    say: str = ""  # what Sona says first
    status: str = NOT_SENT


@dataclass(frozen=True)
class Walkthrough:
    steps: tuple[Step, ...]
    questions: tuple[str, ...]
    actions: tuple[ShownAction, ...]


def steps(instructions: str) -> list[Step]:
    """Numbered or bulleted lines are steps; indented sub-bullets stay with their step; plain
    lines each make a step. Markers become words, so the page shows what Sona does."""
    found: list[str] = []
    for line in (instructions or "").splitlines():
        if not line.strip() or line.strip().lower().startswith("caller intent:"):
            continue
        plain = actions.MARKER_RE.sub(lambda m: _words(m.group()), line)
        if found and line[:1].isspace():  # an indented sub-case belongs to its step
            found[-1] += " " + _NUMBERED.sub("", plain).strip()
        else:
            found.append(_NUMBERED.sub("", plain).strip())
    return [Step(i, text) for i, text in enumerate(found, start=1)]


def _words(marker: str) -> str:
    """A marker as an owner reads it in a step: what Sona does, not the marker syntax."""
    found = actions.parse(marker)
    if not found:
        return marker[2:-2].strip()  # malformed: refused at publish; shown as written
    action = found[0]
    if action.type == "send_sms":
        text = f"Send the caller an SMS: “{action.message}”"
    else:
        text = f"Transfer the call to {action.to} {action.target}"
    return text + (f" (saying “{action.say}” first)" if action.say else "")


def questions(instructions: str) -> list[str]:
    """The questions Sona would ask: quoted or written questions, and "Ask for …" steps."""
    text = actions.MARKER_RE.sub("", instructions or "")
    found = [q.strip() for q in _QUOTED_QUESTION.findall(text)]
    found += [q.strip() for q in _SENTENCE_QUESTION.findall(text)]
    found += [f"Ask for {a.strip().rstrip(',;')}" for a in _ASK.findall(text)]
    return list(dict.fromkeys(q for q in found if q))


def shown_actions(instructions: str, *, numbers: dict[str, str], region: str) -> list[ShownAction]:
    """The job's actions as an owner reads them; `numbers`: the workspace's E.164 → name."""
    shown = []
    for action in actions.parse(instructions):
        say = action.say or ""
        if action.type == "send_sms":
            shown.append(ShownAction("send_sms", "Send SMS to the caller", action.message, say))
            continue
        if action.to == "member":
            label = f"Transfer call to member {action.target}"
        else:
            try:
                number = normalize_phone(action.target, region=region)
            except ValidationError:
                number = action.target
            name = numbers.get(number)
            label = f"Transfer call to {name} ({number})" if name else f"Transfer call to {number}"
        shown.append(ShownAction("transfer_call", label, "", say))
    return shown


def walkthrough(instructions: str, *, numbers: dict[str, str], region: str) -> Walkthrough:
    return Walkthrough(
        steps=tuple(steps(instructions)),
        questions=tuple(questions(instructions)),
        actions=tuple(shown_actions(instructions, numbers=numbers, region=region)),
    )
