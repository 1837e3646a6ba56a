"""Facts: the parts of job instructions a rewrite must never lose.

A fact is a (kind, value) pair: an action marker, URL, email, quoted text, price, time, phone
number or any other number. Every rewriter (built-in or AI) is checked with
`facts(original) <= facts(rewritten)` before its text is shown to anyone.

No pattern reaches across a line break, so a rewrite that moves lines around, or turns
sentences into numbered steps, keeps the same facts.
"""

import functools
import re

# `[[Send SMS: ...]]` / `[[Transfer call: ...]]`: the one marker grammar (jobs/actions.py).
from ..actions import MARKER_RE

# One list marker at the start of a line ("- ", "* ", "• ", "3. ", "3) ", "b) ", "Step 2: ").
# Rewriters strip and add these freely, so they are not facts: the step number "3." in a
# rewrite is not a fact and neither is the "2." of the original's second bullet.
LIST_MARKER_RE = re.compile(
    r"^[ \t]*(?:[-*•+]|\d{1,3}[.)]|[A-Za-z]\)|[Ss]tep[ \t]+\d{1,3}[ \t]*[:.)-])[ \t]+"
)

# "... customers. 1) ask for ... 2) ask ...": list numbers inside prose, after a sentence end.
INLINE_MARKER_RE = re.compile(r"(?:^|(?<=[.!?:;] ))\(?\d{1,2}\) ")

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"\]]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DOMAIN_RE = re.compile(
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|us|biz|info|app|dev)\b(?:/[^\s\"]*)?",
    re.IGNORECASE,
)
QUOTE_RE = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”")
PRICE_RE = re.compile(r"[$€£] ?\d+(?:,\d+)*(?:\.\d+)?")
TIME_RE = re.compile(
    r"\b\d{1,2}(?::\d{2})? ?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])|\b\d{1,2}:\d{2}\b", re.IGNORECASE
)
# Digit groups joined by single spaces, dots or dashes, with optional "+" and "(555)".
# Possessive quantifiers: a long run of digits must not make the engine backtrack.
PHONE_RE = re.compile(r"(?<![\w$€£.,])\+?(?:\(\d++\)|\d++)(?:[ .-]?(?:\(\d++\)|\d++))*+(?!\w)")
NUMBER_RE = re.compile(r"\d+(?:[.,:/]\d+)*%?")

_SPACES_RE = re.compile(r"[^\S\n]+")
_LINE_EDGES_RE = re.compile(r" ?\n ?")
_LIST_MARKER_LINES_RE = re.compile(LIST_MARKER_RE.pattern, re.MULTILINE)
_INLINE_MARKER_LINES_RE = re.compile(INLINE_MARKER_RE.pattern, re.MULTILINE)

# Punctuation that ends a sentence rather than a URL ("see https://x.com/a.").
_URL_TAIL = ".,;:!?)'"


def facts(text: str) -> frozenset[tuple[str, str]]:
    """Return the facts of `text` as a set of (kind, value) pairs.

    A set, not a counter: removing a repeated sentence is allowed, losing its only copy is not.
    """
    return _facts(text)


# Optimizing checks each text twice (as a rewrite's output, then as the next round's input).
@functools.lru_cache(maxsize=32)
def _facts(text: str) -> frozenset[tuple[str, str]]:
    # Spacing and list markers are layout, not facts (the rewriters change both). A lone CR
    # breaks a line for the rewriters (base.py), so it breaks one here too: "$\r0" is no price.
    text = _SPACES_RE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _LINE_EDGES_RE.sub("\n", text)
    text = _LIST_MARKER_LINES_RE.sub("", text)
    text = _INLINE_MARKER_LINES_RE.sub("", text)
    found: set[tuple[str, str]] = set()

    # Order matters: each kind is cut out of the text before the next looks, so the digits of
    # a phone number inside a marker are part of the marker, not loose numbers.
    def take(pattern: re.Pattern, kind: str, normalize=lambda value: value, keep=False) -> None:
        nonlocal text

        def cut(match: re.Match) -> str:
            value = normalize(match.group())
            if not value:
                return match.group()  # not this kind after all: leave it for the next ones
            found.add((kind, value))
            return match.group() if keep else " "

        text = pattern.sub(cut, text)

    take(MARKER_RE, "action")
    take(URL_RE, "url", lambda v: v.rstrip(_URL_TAIL))
    take(EMAIL_RE, "email")
    take(DOMAIN_RE, "url", lambda v: v.rstrip(_URL_TAIL))
    # Quoted text is a fact, and so is each price or number in it: a rewrite may put a
    # sentence in quotes (Ask: "Do you need a child seat ($12/day)?").
    take(QUOTE_RE, "quote", lambda v: " ".join(v[1:-1].split()), keep=True)
    take(PRICE_RE, "price", lambda v: v.replace(" ", ""))
    take(TIME_RE, "time", lambda v: v.lower().replace(" ", "").replace(".", ""))
    take(PHONE_RE, "phone", _phone_value)
    take(NUMBER_RE, "number")
    return frozenset(found)


def _phone_value(value: str) -> str:
    # "+1 (555) 010-2000" and "+15550102000" are the same number; short digit runs are not
    # phone numbers, so they come back as plain numbers (empty value = not a phone).
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return ""
    return ("+" if value.startswith("+") else "") + digits
