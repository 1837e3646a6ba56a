"""How Sona would work through a job, shown in a mock call: its numbered steps, the questions it
would ask and the actions it would perform, each marked "not sent". Reads the job's own words
(jobs/actions.py is the one marker grammar); nothing here sends anything to anyone."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core.phones import format_phone, normalize_phone
from jobs import actions

from .routing import Passage
from .routing.text import sentences, terms

NOT_SENT = "not sent"
SMS_STEP = "Send the caller an SMS"
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
    target: str = ""  # transfers: "Front desk (+1 555-555-0100)", "member Ana"

    @property
    def chip(self) -> str:
        """What Sona would do, short: "would send SMS", "would transfer to Front desk (…)"."""
        if self.type == "send_sms":
            return "would send SMS"
        return f"would transfer to {self.target}" if self.target else "would transfer the call"


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
        text = f"{SMS_STEP}: “{action.message}”"
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
            target = f"member {action.target}"
        else:
            try:
                number = normalize_phone(action.target, region=region)
            except ValidationError:
                number = action.target
            name = numbers.get(number)
            label = f"Transfer call to {name} ({number})" if name else f"Transfer call to {number}"
            shown_number = format_phone(number) if number.startswith("+") else number
            target = f"{name} ({shown_number})" if name else shown_number
        shown.append(ShownAction("transfer_call", label, "", say, target=target))
    return shown


def walkthrough(instructions: str, *, numbers: dict[str, str], region: str) -> Walkthrough:
    return Walkthrough(
        steps=tuple(steps(instructions)),
        questions=tuple(questions(instructions)),
        actions=tuple(shown_actions(instructions, numbers=numbers, region=region)),
    )


# What Sona says offline -----------------------------------------------------------------------
# With the built-in backend Sona's line is built from the job's own words by the fixed rules
# below: a question or line the step quotes, an "Ask for …" or "Tell the caller that …" step
# turned to the caller ("their" → "your", "you" → "I"), the knowledge sentence that answers the
# caller's question or the step, the router's question, or what the business can help with.
# Anything else is the step itself in brackets (what Sona does, not words it says). Nothing is
# invented: every word comes from the job, the knowledge, the router or the attached jobs' names.

_SPOKEN_QUOTE = re.compile(
    r"(?:\b(?:ask|say|says|asks)\b[^\"“.]{0,20}?|:)\s*[\"“]([^\"”]{2,300})[\"”]", re.I
)
_SAYING_FIRST = re.compile(r"\(saying “([^”]{1,300})” first\)")
_ASK_FOR = re.compile(r"^Ask (?:the caller |them )?for (.+)$", re.I)
_ASK_WH = re.compile(
    r"^Ask (?:the caller |them )?((?:whether|if|what|when|which|where|who|how)\b.+)$", re.I
)
_TELL_THAT = re.compile(
    r"^(?:Tell|Remind|Let) (?:the caller|them)(?: know)? that (.+)$|^Explain (?:to the caller |to them )?that (.+)$",
    re.I,
)
_THEN = re.compile(
    r",? (?:and |then |and then )(?:give|tell|ask|offer|say|read|send|transfer|take|note|write|"
    r"confirm|repeat|explain|end|thank|check|let|make|go|skip|continue)\b.*$",
    re.I,
)
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s+(?=[A-Z\"“])|$)")
_QUESTION_START = re.compile(
    r"^(?:what|what's|whats|when|when's|where|where's|how|how's|do|does|did|are|is|can|could|"
    r"will|would|which|who|why|have|has)\b",
    re.I,
)
# Sona's own words in a job ("you") become "I"; the caller's ("they", "the caller") become "you".
_SONA = (
    (r"\byou will\b", "I will"),
    (r"\byou'll\b", "I'll"),
    (r"\byou are\b", "I am"),
    (r"\byou're\b", "I'm"),
    (r"\byou have\b", "I have"),
    (r"(^|\b(?:that|and|but|so|if|when|because|then)\s+)you\b", r"\1I"),
    (r"\byou\b", "me"),
    (r"\byour\b", "my"),
    (r"\byourself\b", "myself"),
)
_CALLER = (
    (r"\bthe caller's\b", "your"),
    (r"\bthe caller\b", "you"),
    (r"\btheir\b", "your"),
    (r"\btheirs\b", "yours"),
    (r"\bthemselves\b", "yourself"),
    (r"\bthem\b", "you"),
    (r"\bthey're\b", "you're"),
    (r"\bthey've\b", "you've"),
    (r"\bthey'll\b", "you'll"),
    (r"\bthey\b", "you"),
    (r"\byou (?:has)\b", "you have"),
    (r"\byou (?:is)\b", "you are"),
    (r"\byou (?:was)\b", "you were"),
    (r"\byou (?:does)\b", "you do"),
)


def to_caller(text: str) -> str:
    """A job's words about the caller, said to the caller: "their name" → "your name",
    "you will take a message" → "I will take a message". Sona's words are swapped first, so
    the caller's new "you" is never swapped again."""
    for pattern, words in _SONA + _CALLER:
        text = re.sub(pattern, words, text, flags=re.IGNORECASE)
    return text


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _first_sentence(text: str) -> str:
    found = _FIRST_SENTENCE.match(text.strip())
    return found.group(1) if found else text.strip()


def is_question(said: str) -> bool:
    """Whether the caller asked something (a question mark, or a question's first word)."""
    said = said.strip()
    return said.endswith("?") or bool(_QUESTION_START.match(said))


# Words every job and knowledge page shares: they match nothing in particular.
_GENERIC = frozenset(
    terms(
        "business business's knowledge caller information answer question page details "
        "team customer help service tell give say ask find check"
    )
)
_CONDITION = re.compile(r"^(?:if|never|do not|don't|only|when|unless)\b", re.IGNORECASE)
QUOTE_SCORE = 0.5  # a passage answers the caller's question when it has half of its words


def quote(passage: Passage, query: str) -> str:
    """'From “<title>”: “<sentence>”': the passage's sentence sharing the most words with
    `query` (the first one when none does)."""
    asked = set(terms(query)) - _GENERIC
    found = sentences(passage.text) or [passage.text.strip()]
    best = max(found, key=lambda s: (len(asked & set(terms(s))), -found.index(s)))
    return f"From “{passage.title}”: “{best}”"


def knowledge_answer(passages: Sequence[Passage], said: str) -> str:
    """The knowledge sentence that answers the caller's question, quoted; "" when the caller
    asked nothing, or no passage has half of the question's words and either two of them or
    one in its page's title ("When are you open?" is not answered by "The terrace is open in
    summer" on a page about parking)."""
    if not is_question(said):
        return ""
    asked = {t for t in terms(said) if not t.startswith("_")} - _GENERIC  # words, not groups
    for passage in passages:
        if passage.score < QUOTE_SCORE:
            break  # best first
        shared = asked & set(terms(passage.text))
        titled = asked & set(terms(passage.title))
        if len(shared | titled) >= 2 or titled:
            return quote(passage, said)
    return ""


def step_knowledge(passages: Sequence[Passage], step: str) -> str:
    """The knowledge sentence a statement step asks for ("Tell the caller the opening hours"):
    a passage sharing at least two of the step's own (not generic) words, quoted."""
    if _CONDITION.match(step):
        return ""
    wanted = {t for t in terms(_first_sentence(step)) if not t.startswith("_")} - _GENERIC
    for passage in passages:
        if len(wanted & (set(terms(passage.text)) | set(terms(passage.title)))) >= 2:
            return quote(passage, step)
    return ""


def spoken_step(step: Step, knowledge: str = "") -> str:
    """What Sona says for one step of a job, by the fixed rules above. `knowledge`: the quoted
    knowledge sentence the step asks for, if any."""
    text = step.text.strip()
    if found := _SAYING_FIRST.search(text):  # an action's "say" words
        return found.group(1).strip()
    if text.startswith(SMS_STEP):  # the SMS is not sent, and its text is not said
        return f"({text})"
    if found := _SPOKEN_QUOTE.search(text):  # Ask: "How many people are coming?"
        return found.group(1).strip()
    first = _first_sentence(text).rstrip(".")
    if found := _ASK_FOR.match(first):
        return f"Could you tell me {to_caller(found.group(1).strip())}?"
    if found := _ASK_WH.match(first):
        return f"Could you tell me {to_caller(found.group(1).strip())}?"
    if found := _TELL_THAT.match(first):
        told = _THEN.sub("", found.group(1) or found.group(2)).replace(" and that ", " and ")
        said = _sentence(to_caller(told.strip()))
        return f"{said} {knowledge}".strip()
    if knowledge:
        return knowledge
    return f"({text})"  # what Sona does, in the job's own words


def first_step(steps: Sequence[Step]) -> int:
    """The number of the step Sona starts a job on: the first that is not the job's "Goal:"."""
    for step in steps:
        if not step.text.lower().startswith("goal:"):
            return step.number
    return 1


def builtin_reply(
    *,
    kind: str,
    steps: Sequence[Step] = (),
    at_step: int = 0,
    job_name: str = "",
    said: str = "",
    passages: Sequence[Passage] = (),
    step_passages: Sequence[Passage] = (),
    question: str = "",
    job_names: Sequence[str] = (),
    message_job: str = "",
) -> str:
    """Sona's line for one turn with the built-in backend. `kind`: the router's decision
    ("job", "clarify", "none"); `passages`: the knowledge passages for what the caller said;
    `step_passages`: those for the current step's text."""
    if kind == "clarify":
        return question
    answer = knowledge_answer(passages, said)
    if kind != "job":
        if job_names:
            line = "I can help with: " + ", ".join(job_names) + "."
        else:
            line = "(No jobs are attached to this step: Sona has nothing to offer.)"
        if message_job:
            line += " Would you like to leave a message?"
        return f"{answer} {line}".strip()
    if not steps:
        return f"{answer} (“{job_name}” has no steps yet.)".strip()
    if at_step > len(steps):
        return f"{answer} (“{job_name}” has no more steps.)".strip()
    step = steps[max(at_step, 1) - 1]
    knowledge = step_knowledge(step_passages, step.text)
    if knowledge and knowledge == answer:  # the answer already says what the step asks for
        line = spoken_step(step)
        line = "" if line.startswith("(") else line
    else:
        line = spoken_step(step, knowledge)
    return f"{answer} {line}".strip()
