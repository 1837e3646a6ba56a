"""STUB (to be replaced by the real built-in + LLM backends): word overlap only."""

import re

from django.conf import settings

from . import Decision, Match, Overlap, Passage

_WORD = re.compile(r"[a-z0-9']+")


def _words(text):
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def _score(candidate, said):
    said_words = _words(said)
    text = " ".join([candidate.name, candidate.trigger, candidate.description, *candidate.examples])
    hits = said_words & _words(text)
    return (len(hits) / max(len(said_words), 1), tuple(sorted(hits)))


def route(candidates, said, history=(), current=None):
    ranking = sorted(
        (Match(c.id, c.name, round(s, 3), why) for c in candidates for s, why in [_score(c, said)]),
        key=lambda m: -m.score,
    )
    no_job_below = getattr(settings, "ROUTER_NO_JOB_BELOW", 0.3)
    margin = getattr(settings, "ROUTER_AMBIGUOUS_MARGIN", 0.05)
    best = ranking[0] if ranking and ranking[0].score >= no_job_below else None
    runner = ranking[1] if len(ranking) > 1 else None
    if best is None and current is not None:
        kept = next((m for m in ranking if m.id == current), None)
        return Decision(kept, runner, tuple(ranking), False, continued=kept is not None)
    ambiguous = bool(best and runner and best.score - runner.score < margin)
    return Decision(best, runner, tuple(ranking), ambiguous)


def passages(pages, said, limit=3):
    found = []
    for page_id, title, body in pages:
        for paragraph in filter(None, (p.strip() for p in body.split("\n\n"))):
            hits = _words(said) & _words(paragraph)
            if hits:
                found.append(Passage(title, paragraph, len(hits) / len(_words(said)), page_id))
    return sorted(found, key=lambda p: -p.score)[:limit]


def overlaps(candidates):
    found = []
    for candidate in candidates:
        for phrase in filter(None, [candidate.trigger, *candidate.examples]):
            decision = route(candidates, phrase)
            own = next(m for m in decision.ranking if m.id == candidate.id)
            for other in decision.ranking:
                if other.id != candidate.id and other.score >= own.score - 0.05 and other.score > 0:
                    found.append(Overlap(phrase, own, other))
    return found
