"""Words the router compares: lower-cased, stop words out, stemmed, plus concept tokens."""

import re
from functools import lru_cache

import Stemmer

from .synonyms import GROUPS

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_stemmer = Stemmer.Stemmer("english")

# Words that say nothing about what the caller needs (phone-call filler included).
STOP = frozenset(
    """a about above after again all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves hi hello hey yes yeah ok okay please thanks thank um uh like just so well
    guys guy i'm i'd i've i'll it's that's there's don't can't won't you're we're we'll
    want wants need needs get got know calling call caller asks ask wants tell also really
    one two where's what's who's how's isn't aren't didn't doesn't haven't i'm""".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _phrase_stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(phrase))


# Each group's phrases as stem tuples, matched against the stemmed words (stop words kept).
_PHRASES = tuple(
    (name, _phrase_stems(phrase)) for name, phrases in GROUPS.items() for phrase in phrases
)


@lru_cache(maxsize=4096)
def terms(text: str) -> dict[str, str]:
    """{term: the words of `text` it came from}: content stems, then "_group" tokens for the
    concept groups the text mentions (the first phrase found). Do not mutate: cached."""
    all_words = words(text)
    stems = [stem(w) for w in all_words]
    found: dict[str, str] = {}
    for word, stemmed in zip(all_words, stems, strict=True):
        if word not in STOP and len(word) > 1:
            found.setdefault(stemmed, word)
    joined = " " + " ".join(stems) + " "
    for name, phrase in _PHRASES:
        key = " " + " ".join(phrase) + " "
        if f"_{name}" not in found and key in joined:
            # The caller's own words for the phrase (stems map back by position).
            start = joined.index(key)
            first = joined[:start].count(" ")
            found[f"_{name}"] = " ".join(all_words[first : first + len(phrase)])
    return found


def sentences(text: str) -> list[str]:
    """Lines and sentences of a text, numbering ("1.") and bullets removed."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*\u2022])\s*", "", line).strip()
        found.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip())
    return found
