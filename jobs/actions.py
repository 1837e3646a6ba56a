"""Action markers in job instructions: the one grammar (the editor, validation, the optimizer
and the runtime API all use it).

    [[Send SMS: <message>]]                       message 1–320 characters
    [[Transfer call: member <email>]]             a member of the workspace
    [[Transfer call: number <a workspace number>]]
    [[Transfer call: external <phone number>]]    read like every number (normalize_phone)

each optionally followed by `| say: <what Sona says first>` inside the brackets. Keywords are
read case-insensitively. Every `[[` opens a marker: one that is unclosed on its line, or not one
of the forms above, is a problem quoting it, so a typo never silently becomes plain text.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core.phones import DEFAULT_REGION, normalize_phone

# A marker is `[[` to the nearest `]]` on the same line (`.` skips line breaks). The optimizer
# keeps these verbatim (optimizer/facts.py imports this pattern).
MARKER_RE = re.compile(r"\[\[.*?\]\]")
OPEN = "[["
SMS_MAX = 320
TARGETS = ("member", "number", "external")

_SAY_RE = re.compile(r"\|\s*say\s*:", re.IGNORECASE)
_SMS_RE = re.compile(r"\s*send\s+sms\s*:(?P<rest>.*)\Z", re.IGNORECASE | re.DOTALL)
_TRANSFER_RE = re.compile(
    r"\s*transfer\s+call\s*:\s*(?P<to>\w+)(?P<rest>.*)\Z", re.IGNORECASE | re.DOTALL
)
_EMAIL_RE = re.compile(r"[^\s@|]+@[^\s@|]+\.[^\s@|]+")
_SHOWN = 80  # characters of an unclosed marker quoted in its problem


@dataclass(frozen=True)
class Action:
    marker: str  # as written, for messages
    type: str  # "send_sms" or "transfer_call"
    message: str = ""  # send_sms
    to: str = ""  # transfer_call: "member", "number" or "external"
    target: str = ""  # transfer_call: the email or the number as written
    say: str | None = None

    def runtime(self, *, region: str = DEFAULT_REGION) -> dict:
        """What the runtime API serves. A member has no phone number in Playbook: the runtime
        rings the member (by email) the way ring-users steps ring members, so "number" is null."""
        if self.type == "send_sms":
            return {"type": "send_sms", "message": self.message, "say": self.say}
        data = {"type": "transfer_call", "to": self.to, "number": None, "say": self.say}
        if self.to == "member":
            data["member"] = self.target.lower()
        else:
            try:
                data["number"] = normalize_phone(self.target, region=region)
            except ValidationError:
                pass  # refused on save and at publish; the live body must still build
        return data


@dataclass(frozen=True)
class Problem:
    marker: str
    message: str

    def __str__(self) -> str:
        return f"“{self.marker}”: {self.message}"


@dataclass(frozen=True)
class Context:
    """What markers may name: the workspace's member emails (lowered) and numbers (E.164)."""

    emails: frozenset[str]
    numbers: frozenset[str]
    region: str = DEFAULT_REGION


def _markers(text: str) -> Iterable[tuple[str, Action | str]]:
    """Each marker in order: (as written, its Action or what is wrong with it)."""
    pos = 0
    while (start := text.find(OPEN, pos)) != -1:
        match = MARKER_RE.match(text, start)
        if match is None:
            line = text[start:].split("\n", 1)[0]
            shown = line if len(line) <= _SHOWN else line[:_SHOWN] + "…"
            yield shown, "it is not closed with “]]” on the same line."
            pos = start + len(OPEN)
            continue
        marker = match.group()
        yield marker, _read(marker)
        pos = match.end()


def _read(marker: str) -> Action | str:
    body = marker[len(OPEN) : -2]
    if OPEN in body:
        return "a marker cannot contain “[[”."
    say = None
    parts = _SAY_RE.split(body)
    if len(parts) > 2:
        return "give “| say:” at most once."
    if len(parts) == 2:
        body, say = parts[0], parts[1].strip()
        if not say:
            return "write what Sona says after “| say:”, or leave “| say:” out."
    if sms := _SMS_RE.match(body):
        message = sms["rest"].strip()
        if not message:
            return "write the message to send, e.g. [[Send SMS: Thanks for calling!]]."
        if len(message) > SMS_MAX:
            return f"an SMS can be at most {SMS_MAX} characters (it has {len(message):,})."
        return Action(marker, "send_sms", message=message, say=say)
    if transfer := _TRANSFER_RE.match(body):
        to, target = transfer["to"].lower(), transfer["rest"].strip()
        if to not in TARGETS or not transfer["rest"][:1].isspace() or not target:
            return (
                "say whom to transfer to: “member EMAIL”, “number +1…” (one of the "
                "workspace's numbers) or “external +1…”."
            )
        if to == "member" and not _EMAIL_RE.fullmatch(target):
            return f"“{target}” is not an email address."
        return Action(marker, "transfer_call", to=to, target=target, say=say)
    return "not an action. Use [[Send SMS: …]] or [[Transfer call: …]]."


def has_markers(text: str) -> bool:
    """Whether the text has anything for find_problems to look at (no query needed if not)."""
    return OPEN in (text or "")


def parse(text: str) -> list[Action]:
    """The well-formed actions of `text`, in order (malformed markers are left out)."""
    return [found for _, found in _markers(text or "") if isinstance(found, Action)]


def find_problems(text: str, *, context: Context | None) -> list[Problem]:
    """What is wrong with the markers of `text`. Without a context only the form is checked."""
    problems = []
    for marker, found in _markers(text or ""):
        if isinstance(found, str):
            problems.append(Problem(marker, found))
        elif context is not None and (wrong := _target_problem(found, context)):
            problems.append(Problem(marker, wrong))
    return problems


def _target_problem(action: Action, context: Context) -> str | None:
    if action.type != "transfer_call":
        return None
    if action.to == "member":
        if action.target.lower() not in context.emails:
            return f"no member of this workspace has the email {action.target}."
        return None
    try:
        number = normalize_phone(action.target, region=context.region)
    except ValidationError as exc:
        return " ".join(exc.messages)
    if action.to == "number" and number not in context.numbers:
        return f"{number} is not one of this workspace's phone numbers."
    return None


def check(text: str, *, context: Context | None, field: str = "instructions") -> None:
    """Raise a ValidationError on `field` listing every problem, each quoting its marker."""
    problems = find_problems(text, context=context)
    if problems:
        raise ValidationError({field: [str(problem) for problem in problems]})


def names_member(text: str, email: str) -> bool:
    email = email.lower()
    return any(a.to == "member" and a.target.lower() == email for a in parse(text))


def names_number(text: str, number: str, *, region: str = DEFAULT_REGION) -> bool:
    """Whether a transfer of `text` names `number` (E.164), however the marker writes it."""
    for action in parse(text):
        if action.to == "number":
            try:
                if normalize_phone(action.target, region=region) == number:
                    return True
            except ValidationError:
                continue
    return False


def marker(action: Action) -> str:
    """The canonical marker of an action (what the editor inserts)."""
    if action.type == "send_sms":
        body = f"Send SMS: {action.message}"
    else:
        body = f"Transfer call: {action.to} {action.target}"
    if action.say is not None:
        body += f" | say: {action.say}"
    return f"[[{body}]]"
