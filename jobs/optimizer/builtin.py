"""The built-in rewriter: deterministic, offline, no model.

Output format (also what it reads back, which is what makes it idempotent):

    Caller intent: <the trigger, or the text's "Goal:" line>

    1. <one action>
       - If the caller ... <a sub-case of step 1>
    2. Ask: "What is your name?"
    3. End the job: confirm the next step with the caller and thank them.

Work happens on a copy of the text where action markers, quotes, URLs and emails are swapped
for placeholders, so no rule can split, reword or re-capitalize them.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from .base import NOTHING_TO_CHANGE, Result, check_length, normalize
from .facts import (
    DOMAIN_RE,
    EMAIL_RE,
    INLINE_MARKER_RE,
    LIST_MARKER_RE,
    MARKER_RE,
    QUOTE_RE,
    URL_RE,
    facts,
)

INTENT_LABEL = "Caller intent:"
CLOSING_STEP = "End the job: confirm the next step with the caller and thank them."

# ---------------------------------------------------------------------------------------------
# Placeholders

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: never in real instructions
# "\ue000M3\ue001": M marks an action marker (a sentence may end right after one).
_PLACEHOLDER_RE = re.compile(f"{_OPEN}[MT](\\d+){_CLOSE}")
_URL_TAIL = ".,;:!?)'"


class _Protected:
    """The text with markers, quotes, URLs and emails hidden behind placeholders."""

    def __init__(self, text: str):
        self.spans: list[str] = []
        self._ids: dict[str, int] = {}  # the same span always gets the same placeholder
        for pattern in (MARKER_RE, QUOTE_RE, URL_RE, EMAIL_RE, DOMAIN_RE):
            text = pattern.sub(self._hide, text)
        self.text = text

    def _hide(self, match: re.Match) -> str:
        value, tail = match.group(), ""
        kind = "M" if value.startswith("[[") else "T"
        if not value.startswith(("[[", '"', "“")):
            # "see https://x.com." : the final dot ends the sentence, not the URL.
            core = value.rstrip(_URL_TAIL)
            value, tail = core, value[len(core) :]
        if value not in self._ids:
            self._ids[value] = len(self.spans)
            self.spans.append(value)
        return f"{_OPEN}{kind}{self._ids[value]}{_CLOSE}{tail}"

    def restore(self, text: str) -> str:
        # A quote can hold a marker, so restore until no placeholder is left.
        while _OPEN in text:
            text = _PLACEHOLDER_RE.sub(lambda m: self.spans[int(m.group(1))], text)
        return text


# ---------------------------------------------------------------------------------------------
# Word lists

# Hedges dropped at the start of a sentence or clause, longest first so "you should probably"
# goes before "you should".
_HEDGES = (
    "you should probably", "you should", "you'd want to", "you would want to",
    "you might want to", "you may want to", "you'll want to", "you will want to",
    "you want to", "you need to", "you have to", "you must", "you can", "you could",
    "we'd like you to", "we would like you to", "we want you to", "i'd like you to",
    "i would like you to", "i want you to", "it would be good to", "it would be nice to",
    "it would be great to", "it would be best to", "it'd be good to",
    "it'd be great if you could", "it would be great if you could", "it might be good to",
    "it might be a good idea to", "it's a good idea to", "it is a good idea to", "it's best to",
    "it is best to", "if you could", "if you can", "if possible", "please try to",
    "please try and", "please", "kindly", "try to", "try and", "maybe", "perhaps", "probably",
    "possibly", "just", "make sure to", "make sure you", "be sure to", "don't forget to",
    "do not forget to", "remember to", "always remember to", "go ahead and", "feel free to",
    "ideally", "basically", "so basically", "hey so", "ok so", "okay so", "alright so", "hmm",
    "i think", "i guess", "i suppose", "um", "uh",
)  # fmt: skip
# After "and" / "then" only hedges that cannot be part of what the caller is told
# ("tell them we are open and you can park out back" keeps its "you can").
_AND_HEDGES = (
    "you should probably", "you should", "you might want to", "you may want to",
    "it would be good to", "please try to", "please try and", "try to", "try and", "just",
    "make sure to", "be sure to", "don't forget to", "remember to", "go ahead and",
)  # fmt: skip


def _alternatives(phrases) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


_HEDGE_RE = re.compile(
    rf"(^|[,;:.!?]\s+)(?:{_alternatives(_HEDGES)})(?:\s*,)?\s+"
    rf"|(\s+(?:and|then)\s+)(?:{_alternatives(_AND_HEDGES)})(?:\s*,)?\s+",
    re.IGNORECASE,
)
# Hedges that mean nothing anywhere in a sentence.
_INLINE_HEDGE_RE = re.compile(r"\b(?:probably|maybe|perhaps|possibly)\b,?", re.IGNORECASE)
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.;:!?])")
_STRAY_COMMA_RE = re.compile(r"^[,;]\s*|[,;]\s*(?=[,;.])")

# Sequencing words the numbering replaces; dropped only at the start of a sentence.
_CONNECTOR_RE = re.compile(
    r"^(?:and|then|and then|after that|afterwards|after this|once that's done|"
    r"once that is done|once done|to start|to begin|first of all)(?:\s*,)?\s+",
    re.IGNORECASE,
)
# These also start ordinary sentences ("Next appointment ..."): dropped only before a comma
# or a verb.
_SOFT_CONNECTOR_RE = re.compile(
    r"^(?:first|firstly|next|finally|lastly|also|second|third)(?:\s*,\s*|\s+(?=(\w+)))",
    re.IGNORECASE,
)

# Verbs that start a new action after "," or "and" ("Greet them and ask ...").
_SPLIT_VERBS = (
    "ask|tell|say|greet|offer|confirm|collect|take|send|transfer|repeat|read|let|explain|"
    "schedule|thank|give|verify|apologize|apologise|provide|remind|inform|spell|capture|"
    "escalate|forward|mention|suggest|recommend|get|book|text|check|note|write|end|wrap"
)
# Verbs an instruction may start with (an imperative sentence).
_START_VERBS = set(
    (
        _SPLIT_VERBS + "|call|look|open|close|leave|record|log|update|cancel|reschedule|make|"
        "find|keep|stay|use|answer|put|listen|wait|hold|pull|share|quote|state|introduce|"
        "identify|help|try|always|never|don't|do|be|hang|direct|walk|reassure"
    ).split("|")
)
_SPLIT_RE = re.compile(r"(,\s*(?:and\s+)?|\s+and\s+)(?=(?:" + _SPLIT_VERBS + r")\b\s+\S)")
_THEN_RE = re.compile(r",\s*(?:and\s+)?then\s+|\s+and\s+then\s+", re.IGNORECASE)

_CONDITION_RE = re.compile(
    r"^(?:if|unless|otherwise|in case|else|whenever|should (?:the caller|they|he|she)|"
    r"when (?:the caller|they|he|she|someone|a caller))\b",
    re.IGNORECASE,
)
# "When they call about a leak you should ask ...": the hedge marks where the order starts.
_YOU_HEDGE_RE = re.compile(
    r"\s+(?:you should|you'd want to|you will want to|you'll want to|you might want to|"
    r"you may want to|you need to|you have to|you must|you can)\s+",
    re.IGNORECASE,
)
_CLOSING_RE = re.compile(
    r"^(?:end|finish|close|wrap up|hang up|say goodbye|say bye|thank|transfer)\b|"
    r"\b(?:goodbye|hang up|end the (?:call|job))\b|\[\[Transfer call:",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"^(?:caller intent|intent|goal|purpose|objective|scenario|when to use)\s*[:–-]\s*(\S.*)$",
    re.IGNORECASE,
)
_MARKDOWN_RE = re.compile(r"^#{1,6}\s+|\*\*|__")
# A full stop after these does not end the sentence ("Dr. Patel", "e.g. the") ...
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "approx", "no", "ave", "rd", "mt",
    "apt", "e.g", "i.e", "cf",
}  # fmt: skip
_WORD_BEFORE_DOT_RE = re.compile(r"([\w.]+)[.]$")
# ... and after these only when a capital letter follows ("at 9 a.m. Then ask").
_ABBREVIATIONS_BEFORE_LOWER = {"a.m", "p.m", "etc", "inc", "ltd", "co"}
# A sentence can also end right after an action marker: "Send [[Send SMS: Hi]] Thank them."
_SENTENCE_END_RE = re.compile(
    r"(?<![.!?])[.!?]++[)\]'\"”]*\s+(?=\S)|(?<=" + _OPEN + r"M)\d+" + _CLOSE + r"\s+(?=[A-Z])"
)

# ---------------------------------------------------------------------------------------------
# Explicit questions

_WHO = r"(?:\s+(?:the caller|the customer|the client|the patient|them|him|her))?"
_FIELD_QUESTIONS = {
    "name": "What is your name?",
    "full name": "What is your full name?",
    "phone number": "What is the best phone number to reach you?",
    "phone": "What is the best phone number to reach you?",
    "number": "What is the best phone number to reach you?",
    "callback number": "What is the best phone number to reach you?",
    "call back number": "What is the best phone number to reach you?",
    "call-back number": "What is the best phone number to reach you?",
    "contact number": "What is the best phone number to reach you?",
    "best number": "What is the best phone number to reach you?",
    "email": "What is your email address?",
    "email address": "What is your email address?",
    "e-mail": "What is your email address?",
    "address": "What is your address?",
    "street address": "What is your address?",
    "home address": "What is your address?",
    "service address": "What is the service address?",
    "zip": "What is your ZIP code?",
    "zip code": "What is your ZIP code?",
    "postcode": "What is your postcode?",
    "postal code": "What is your postal code?",
    "date of birth": "What is your date of birth?",
    "birthday": "What is your date of birth?",
    "account number": "What is your account number?",
    "order number": "What is your order number?",
    "company": "What is the name of your company?",
    "company name": "What is the name of your company?",
    "business name": "What is the name of your business?",
    "reason for calling": "What is the reason for your call?",
    "reason for the call": "What is the reason for your call?",
    "budget": "What is your budget?",
    "insurance provider": "Who is your insurance provider?",
    "best time to call back": "What time works best for a call back?",
    "preferred time": "What time works best for you?",
}
_ASK_FIELDS_RE = re.compile(
    r"^(?P<verb>ask" + _WHO + r"(?:\s+(?:for|about))?|get|collect|take(?:\s+down)?|find out|"
    r"grab|request|obtain)\s+(?P<rest>[^\"“\ue000;:]+?)[.]?$",
    re.IGNORECASE,
)
_DETERMINER_RE = re.compile(
    r"^(?:their|his|her|your|the|a|an|the caller's|the customer's)\s+", re.IGNORECASE
)
# "the best number to reach them" is the phone number.
_REACH_RE = re.compile(
    r"\s+(?:to reach (?:them|him|her)|to call (?:them |him |her )?back|for (?:a )?call ?back)$",
    re.IGNORECASE,
)
_YES_NO_RE = re.compile(
    r"^ask" + _WHO + r"\s+(?:if|whether)\s+they(?P<rest>(?:'d|'re|'ve|'ll)?\s+[^,;\"“\ue000?]+?)"
    r"(?:\s+or not)?[.?]?$",
    re.IGNORECASE,
)
_WH_RE = re.compile(
    r"^ask" + _WHO + r"\s+(?P<wh>what|which|when|where|how|who|why)\b(?P<tail>[^,;\"“\ue000?]*?)"
    r"[.?]?$",
    re.IGNORECASE,
)
_DIRECT_RE = re.compile(r"^ask" + _WHO + r"\s*:\s*([^\"“\ue000?]+)\?$", re.IGNORECASE)
_AUX = {"are", "were", "can", "could", "would", "will", "should", "did", "do"}
_BASE_VERBS = {
    "need", "want", "prefer", "like", "have", "own", "rent", "live", "know", "plan", "use",
    "require", "qualify", "work", "speak", "understand", "agree", "accept", "mind", "remember",
    "expect", "wish", "intend", "see", "hear", "feel", "drive", "run", "pay", "get",
}  # fmt: skip
_ADVERBS = {"still", "already", "currently", "ever", "also", "usually", "even"}
_PRONOUNS = {
    "they're": "you're", "they've": "you've", "they'll": "you'll", "they'd": "you'd",
    "themselves": "yourself", "theirs": "yours", "their": "your", "them": "you", "they": "you",
}  # fmt: skip
_PRONOUN_RE = re.compile(r"\b(?:" + "|".join(_PRONOUNS) + r")\b(?!')", re.IGNORECASE)


def _to_you(text: str) -> str:
    """'their budget' -> 'your budget': the caller is asked directly."""
    return _PRONOUN_RE.sub(lambda m: _PRONOUNS[m.group().lower()], text)


def _question(question: str) -> str:
    question = " ".join(question.split()).rstrip(" .?")
    return f'Ask: "{question[:1].upper()}{question[1:]}?"'


def _field_questions(sentence: str) -> list[str] | None:
    """'Ask them for their name and phone number' -> one `Ask: "..."` step per field."""
    match = _ASK_FIELDS_RE.match(sentence)
    if not match:
        return None
    rest = re.sub(r"\bfirst and last name\b", "full name", match["rest"], flags=re.IGNORECASE)
    items = [
        _REACH_RE.sub("", _DETERMINER_RE.sub("", item.strip())).lower()
        for item in re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", rest)
    ]
    if items and all(item in _FIELD_QUESTIONS for item in items):
        questions = dict.fromkeys(f'Ask: "{_FIELD_QUESTIONS[item]}"' for item in items)
        return list(questions)
    owner = re.match(r"(?:their|his|her)\s+(.+)$", match["rest"], re.IGNORECASE)
    if match["verb"].lower().startswith("ask") and owner and "," not in owner[1]:
        return [f"Ask the caller for their {owner[1]}."]
    return None


def _yes_no_question(sentence: str) -> str | None:
    """'ask if they have pets' -> Ask: "Do you have pets?" (only forms it can do right)."""
    match = _YES_NO_RE.match(sentence)
    if not match:
        return None
    rest = match["rest"]
    contraction = {"'d": "Would", "'re": "Are", "'ve": "Have", "'ll": "Will"}
    for suffix, aux in contraction.items():
        if rest.startswith(suffix):
            return _question(f"{aux} you {_to_you(rest[len(suffix) :])}")
    words = rest.split()
    adverb = words.pop(0) + " " if len(words) > 1 and words[0].lower() in _ADVERBS else ""
    verb, tail = words[0].lower(), " ".join(words[1:])
    if verb == "have" and words[1:] and re.match(r"(been|ever|already|\w+ed)\b", words[1]):
        return _question(f"Have you {adverb}{_to_you(tail)}")
    if verb in _AUX:
        return _question(f"{verb} you {adverb}{_to_you(tail)}")
    if verb in _BASE_VERBS:
        return _question(f"Do you {adverb}{verb} {_to_you(tail)}")
    return None


def _wh_question(sentence: str) -> str | None:
    """'ask what their budget is' -> Ask: "What is your budget?" (a few safe word orders)."""
    match = _WH_RE.match(sentence)
    if not match:
        return None
    wh, tail = match["wh"], match["tail"]
    subject = re.match(r"(?P<pre>.*?)\s*\bthey\s+(?P<verb>\w+)(?P<rest>.*)$", tail)
    if subject and not re.search(r"\b(?:he|she|they)\b", subject["pre"]):
        verb = subject["verb"].lower()
        if verb in _AUX:
            return _question(f"{wh}{subject['pre']} {verb} you{_to_you(subject['rest'])}")
        if verb in _BASE_VERBS:
            return _question(f"{wh}{subject['pre']} do you {verb}{_to_you(subject['rest'])}")
        return None
    if re.search(r"\b(?:he|she|they)\b", tail):
        return None
    # Only "<the/their> <noun> is": "what date the event is" has no safe word order.
    ends_with_is = re.match(
        r"(?P<pre>\s+(?:their|the|your|his|her|its|our)\s.+?)\s+(?P<verb>is|are)$", tail
    )
    if ends_with_is:  # "what their budget is"
        return _question(f"{wh} {ends_with_is['verb']}{_to_you(ends_with_is['pre'])}")
    if re.match(r"(?:\s+\w+)?\s+(?:works|suits|fits|is|sounds)\b", tail):  # "which day works"
        return _question(f"{wh}{_to_you(tail)}")
    return None


# ---------------------------------------------------------------------------------------------
# Sentences


def _sentences(line: str) -> list[str]:
    """Split a line at sentence ends; not after "Dr." or "e.g."."""
    parts, start = [], 0
    for match in _SENTENCE_END_RE.finditer(line):
        word = _WORD_BEFORE_DOT_RE.search(line, max(0, match.start() - 12), match.start() + 1)
        word = word[1].lower() if word else ""
        if word in _ABBREVIATIONS or (
            word in _ABBREVIATIONS_BEFORE_LOWER and line[match.end()].islower()
        ):
            continue
        parts.append(line[start : match.end()])
        start = match.end()
    parts.append(line[start:])
    return [part.strip() for part in parts if part.strip()]


def _has_content(text: str) -> bool:
    return _OPEN in text or any(char.isalnum() for char in text)


def _clean(sentence: str, notes: Counter) -> str:
    """Drop hedges and leading sequencing words: 'you should probably try to ask' -> 'ask'."""
    hedged = False
    while True:
        cleaned, prefixes = _HEDGE_RE.subn(lambda m: m[1] or m[2] or "", sentence)
        cleaned, inline = _INLINE_HEDGE_RE.subn("", cleaned)
        hedged = hedged or bool(prefixes or inline)
        cleaned = _CONNECTOR_RE.sub("", cleaned.lstrip())
        soft = _SOFT_CONNECTOR_RE.match(cleaned)
        if soft and (soft[1] is None or soft[1].lower() in _START_VERBS):
            cleaned = cleaned[soft.end() :]
        if cleaned == sentence:
            break
        # Words went missing: tidy the spaces and commas they leave behind.
        cleaned = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", " ".join(cleaned.split()))
        sentence = _STRAY_COMMA_RE.sub("", cleaned)
    if hedged:
        notes["hedges"] += 1
    return sentence


def _finish(sentence: str) -> str:
    """Capital first letter, closing full stop."""
    sentence = " ".join(sentence.split()).strip(",; ")
    if sentence[:1].islower():
        sentence = sentence[0].upper() + sentence[1:]
    if sentence and (sentence[-1].isalnum() or sentence[-1] in ")%'"):
        sentence += "."
    return sentence


def _first_word(text: str) -> str:
    match = re.match(r"[A-Za-z']+", text)
    return match.group().lower() if match else ""


def _split_actions(sentence: str, notes: Counter) -> list[str]:
    """One action per step: split at ';', ', then' and ', ask' / 'and ask' after an order."""
    pieces = []
    for part in re.split(r"\s*;\s*", sentence):
        for clause in _THEN_RE.split(part):
            # Clean first: "Then ask ..., and read back ..." is an order once "Then" is gone.
            for piece in _split_verbs(_clean(clause, notes)):
                piece = _clean(piece, notes)
                if _has_content(piece):
                    pieces.append(piece)
    return pieces


def _split_verbs(clause: str) -> list[str]:
    pieces = []
    # Only an instruction is split ("Before transferring, ask ..." stays whole).
    while _first_word(clause) in _START_VERBS:
        for match in _SPLIT_RE.finditer(clause):
            before = clause[: match.start()]
            # "Tell them to call back and ask for Maria": "and" belongs to "to call back".
            if ":" in before or (match[1].strip() == "and" and " to " in f" {before} "):
                continue
            pieces.append(before)
            clause = clause[match.end() :]
            break
        else:
            break
    return [*pieces, clause]


def _direct_question(sentence: str) -> str | None:
    """'Ask the caller: what's your name?' -> Ask: "What's your name?"."""
    match = _DIRECT_RE.match(sentence)
    return _question(match[1]) if match else None


def _explicit(piece: str, notes: Counter) -> list[str]:
    """Turn 'ask for their name' into a quoted question when the words allow it."""
    questions = _field_questions(piece)
    if questions is None:
        single = _yes_no_question(piece) or _wh_question(piece) or _direct_question(piece)
        questions = [single] if single else None
    if questions is None:
        return [piece]
    if questions != [_finish(piece)]:
        notes["questions"] += 1
    return questions


def _is_closing(step: str) -> bool:
    return bool(_CLOSING_RE.search(step))


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?:")


# ---------------------------------------------------------------------------------------------
# The rewrite


@dataclass
class _Step:
    text: str
    subs: list[str] = field(default_factory=list)
    line_indent: int = 0


@dataclass
class _Draft:
    intent: str = ""
    steps: list[_Step] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)


def _read(text: str, protected: _Protected) -> _Draft:
    """Read prose, bullets or our own output into intent + steps + sub-cases."""
    draft = _Draft()
    header_open = False  # last step ended with ":" and bullets follow ("Collect:\n- name")
    for raw in protected.text.split("\n"):
        if not raw.strip():
            header_open = False
            continue
        indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
        marker = LIST_MARKER_RE.match(raw)
        content = (raw[marker.end() :] if marker else raw).strip()
        symbol_bullet = bool(marker) and marker.group().strip()[:1] in "-*•+"
        label = _LABEL_RE.match(content)
        if label and not draft.intent:
            draft.intent = " ".join(label[1].split())
            continue
        current = draft.steps[-1] if draft.steps else None
        if current and (indent > current.line_indent or (header_open and symbol_bullet)):
            sub = _finish(_clean(content, draft.notes))
            if _has_content(sub):
                current.subs.append(sub)
            continue
        header_open = False
        content = _MARKDOWN_RE.sub("", content)  # "## Steps", "**Important**": layout only
        content = INLINE_MARKER_RE.sub("", " ".join(content.split()))
        for sentence in _sentences(content):
            _read_sentence(sentence, indent, draft)
        if draft.steps and draft.steps[-1].text.endswith(":"):
            header_open = True
    return draft


def _read_sentence(sentence: str, indent: int, draft: _Draft) -> None:
    sentence = _clean(sentence, draft.notes)
    if not _has_content(sentence):
        return
    if _CONDITION_RE.match(sentence):
        if "," not in sentence:
            sentence = _clean(_YOU_HEDGE_RE.sub(", ", sentence, count=1), draft.notes)
        # A sub-case belongs to the step before it; the very first sentence is a step.
        if draft.steps:
            draft.steps[-1].subs.append(_finish(sentence))
            draft.notes["conditions"] += 1
        else:
            draft.steps.append(_Step(_finish(sentence), line_indent=indent))
        return
    pieces = _split_actions(sentence, draft.notes)
    if len(pieces) > 1:
        draft.notes["split"] += 1
    for piece in pieces:
        if _CONDITION_RE.match(piece) and draft.steps:
            draft.steps[-1].subs.append(_finish(piece))
            draft.notes["conditions"] += 1
            continue
        for text in _explicit(piece, draft.notes):
            draft.steps.append(_Step(_finish(text), line_indent=indent))


def _dedupe(draft: _Draft) -> None:
    """Keep the first of repeated steps, with the sub-cases of all copies."""
    kept: dict[str, _Step] = {}
    for step in draft.steps:
        first = kept.setdefault(_key(step.text), step)
        if first is not step:
            draft.notes["repeats"] += 1
            first.subs.extend(step.subs)
    for step in kept.values():
        subs = {_key(sub): sub for sub in reversed(step.subs)}  # first copy wins
        draft.notes["repeats"] += len(step.subs) - len(subs)
        step.subs = list(reversed(subs.values()))
    draft.steps = list(kept.values())


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _render(intent: str, steps: list[_Step]) -> str:
    lines = [f"{INTENT_LABEL} {intent}", ""] if intent else []
    for number, step in enumerate(steps, start=1):
        lines.append(f"{number}. {step.text}")
        lines.extend(f"   - {sub}" for sub in step.subs)
    return "\n".join(lines)


def _rewrite(text: str, trigger: str) -> tuple[str, list[str]]:
    protected = _Protected(text)
    draft = _read(text, protected)
    intent_from = "the text" if draft.intent else "the trigger"
    draft.intent = draft.intent or " ".join(trigger.split())
    _dedupe(draft)
    added_closing = not draft.steps or not _is_closing(protected.restore(draft.steps[-1].text))
    if added_closing:
        draft.steps.append(_Step(CLOSING_STEP))
    out = protected.restore(_render(draft.intent, draft.steps))

    notes = draft.notes
    changes = []
    if draft.intent and out.split("\n")[0] != text.split("\n")[0]:
        changes.append(f"Stated the caller's intent first (from {intent_from}).")
    steps = _count(len(draft.steps), "numbered step")
    changes.append(f"Wrote the instructions as {steps}, one action each.")
    if notes["split"]:
        changes.append(f"Split {_count(notes['split'], 'sentence')} that held several actions.")
    if notes["hedges"]:
        changes.append(
            f"Rewrote hedged wording as direct instructions in {_count(notes['hedges'], 'place')}"
            ' (e.g. "you should probably try to ask" became "Ask").'
        )
    if notes["questions"]:
        changes.append(
            f"Made {_count(notes['questions'], 'question')} explicit, in the caller's words."
        )
    if notes["conditions"]:
        changes.append(
            f'Kept {_count(notes["conditions"], "sub-case")} ("If the caller ...") '
            "with the step it belongs to."
        )
    if notes["repeats"]:
        changes.append(f"Removed {_count(notes['repeats'], 'repeated sentence')}.")
    if added_closing:
        changes.append("Added a closing step so Sona knows when the job is done.")
    return out, changes


def _conservative(text: str, trigger: str, *, split_sentences: bool) -> str:
    """Original sentences (or lines) word for word as numbered steps: nothing can be lost."""
    protected = _Protected(text)
    intent, steps = "", []
    for raw in protected.text.split("\n"):
        content = LIST_MARKER_RE.sub("", raw, count=1).strip()
        label = _LABEL_RE.match(content)
        if label and not intent:
            intent = label[1].strip()
            continue
        parts = _sentences(content) if split_sentences else [content]
        steps.extend(protected.restore(part) for part in parts if part)
    steps = list(dict.fromkeys(steps))
    if not steps or not _is_closing(steps[-1]):
        steps.append(CLOSING_STEP)
    return _render(
        protected.restore(intent) or " ".join(trigger.split()), [_Step(s) for s in steps]
    )


def _rewrite_checked(text: str, trigger: str) -> tuple[str, list[str]]:
    """The full rewrite if it keeps every fact, else the conservative ones."""
    wanted = facts(text)
    out, changes = _rewrite(text, trigger)
    if wanted <= facts(out):
        return out, changes
    kept = "Kept the original sentences word for word: the full rewrite would have lost a fact."
    for split_sentences in (True, False):
        out = _conservative(text, trigger, split_sentences=split_sentences)
        if wanted <= facts(out):
            return out, [kept]
    return text, ["Kept the instructions unchanged: no rewrite kept every fact."]


class BuiltinOptimizer:
    """OPTIMIZER_BACKEND "builtin": the rules below, offline and deterministic."""

    def optimize(self, text: str, trigger: str = "") -> Result:
        return optimize_builtin(text, trigger)


def optimize_builtin(text: str, trigger: str = "") -> Result:
    source = normalize(text)
    if not source:
        raise ValueError("There are no instructions to optimize.")
    out, changes = _rewrite_checked(source, trigger)
    if out == source:
        return Result(text=source, changes=[NOTHING_TO_CHANGE], already_optimized=True)
    # The rewrite is built to be idempotent; rewriting the result again until nothing changes
    # makes sure of it, so optimizing this output later says "already optimized".
    for _ in range(3):
        again, _changes = _rewrite_checked(out, trigger)
        if again == out:
            break
        out = again
    check_length(out)
    return Result(text=out, changes=changes, already_optimized=False, backend="builtin")
