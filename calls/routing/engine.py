"""Dispatch to the configured backend, and what every backend shares: thresholds, `current`.

ROUTER_BACKEND: "builtin" (default) or "llm" (falls back to builtin, visibly, on any failure).
"""

import re
from dataclasses import replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import Decision, Match, Overlap, Passage, builtin
from .text import sentences, terms

DEFAULT_NO_JOB_BELOW = 0.1
DEFAULT_AMBIGUOUS_MARGIN = 0.03
# A caller on a job (`current`) moves to another only when it beats the current one by this much.
CHANGE_OF_INTENT = 0.1
# A turn this weak alone ("yes", "tomorrow at 3") is read together with the caller's last turn.
VAGUE_BELOW = 0.1


def setting(name: str, default):
    value = getattr(settings, name, None) if settings.configured else None
    return default if value in (None, "") else value


def thresholds() -> tuple[float, float]:
    return (
        float(setting("ROUTER_NO_JOB_BELOW", DEFAULT_NO_JOB_BELOW)),
        float(setting("ROUTER_AMBIGUOUS_MARGIN", DEFAULT_AMBIGUOUS_MARGIN)),
    )


def route(candidates, said, history=(), current=None) -> Decision:
    backend = (setting("ROUTER_BACKEND", "builtin") or "builtin").strip().lower()
    if backend == "builtin":
        return route_builtin(candidates, said, history, current)
    if backend == "llm":
        from .llm import route_llm

        return route_llm(candidates, said, history, current)
    raise ImproperlyConfigured(f'ROUTER_BACKEND must be "builtin" or "llm", not {backend!r}.')


def rank(candidates, said: str, history=()) -> list[Match]:
    """Every candidate, best first (ties: the step's order, so the answer is deterministic)."""
    candidates = tuple(candidates)
    if not candidates:
        return []
    scored = builtin.score(candidates, said)
    if history and max(s[0] for s in scored) < VAGUE_BELOW:
        # "yes" or "tomorrow at 3" says little alone; the turn before it says what it is about.
        context = builtin.score(candidates, f"{history[-1]} {said}")
        if max(s[0] for s in context) > max(s[0] for s in scored):
            scored = context
    order = sorted(range(len(scored)), key=lambda i: (-scored[i][-1].score, i))
    return [scored[i][-1] for i in order]


def decide(ranking, current=None, backend="builtin", notice="") -> Decision:
    no_job_below, margin = thresholds()
    ranking = tuple(ranking)
    if not ranking:
        return Decision(None, None, (), False, backend=backend, notice=notice)
    best = ranking[0]
    kept = next((m for m in ranking if m.id == current), None)
    if kept is not None and not (
        best.id != kept.id
        and best.score >= no_job_below
        and best.score - kept.score >= CHANGE_OF_INTENT
    ):
        runner = next((m for m in ranking if m.id != kept.id), None)
        return Decision(kept, runner, ranking, False, True, backend, notice)
    job = best if best.score >= no_job_below else None
    # With no job, the runner-up is the closest job (what a mock call shows as "closest").
    runner = best if job is None else (ranking[1] if len(ranking) > 1 else None)
    ambiguous = bool(job and runner and job.score - runner.score < margin)
    return Decision(job, runner, ranking, ambiguous, False, backend, notice)


# Answers to the current job's questions ("yes", "Saturday at eight", "two of us", "Maria")
# name no intent: with a job under way, a turn made only of these words continues it, however
# well a day name matches another job ("Saturday" is also an opening-hours word).
_ANSWER_WORDS = frozenset(
    "yes yeah yep no nope ok okay sure fine please thanks thank you that works sounds good "
    "great perfect right correct at on in the a an for of and or to it is be we us our me my "
    "i i'm i'll we're there about around maybe probably then next this that morning afternoon "
    "evening night noon midnight today tomorrow tonight week weekend am pm o'clock half quarter "
    "past monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun "
    "january february march april may june july august september october november december "
    "one two three four five six seven eight nine ten eleven twelve people person of us".split()
)
_ANSWER_TOKEN = re.compile(r"[a-z']+|\d+(?::\d+)?(?:am|pm|st|nd|rd|th)?")


def is_answer(said: str) -> bool:
    """Whether the turn only answers a question (no words of its own intent)."""
    tokens = _ANSWER_TOKEN.findall(said.lower())
    return bool(tokens) and all(t in _ANSWER_WORDS or t[0].isdigit() for t in tokens)


def route_builtin(candidates, said, history=(), current=None) -> Decision:
    ranking = rank(candidates, said, history)
    if current is not None and is_answer(said):
        kept = next((m for m in ranking if m.id == current), None)
        if kept is not None:
            runner = next((m for m in ranking if m.id != current), None)
            return Decision(kept, runner, tuple(ranking), False, True, "builtin", "")
    return decide(ranking, current)


# Passages: the knowledge Sona would quote.
def _chunks(body: str) -> list[str]:
    """Paragraphs; a long paragraph is cut into sentences so a passage stays quotable."""
    found = []
    for paragraph in filter(None, (p.strip() for p in body.replace("\r\n", "\n").split("\n\n"))):
        if len(paragraph) <= 400:
            found.append(paragraph)
        else:
            found.extend(sentences(paragraph))
    return found


def passages(pages, said: str, limit: int = 3) -> list[Passage]:
    asked = {t for t in terms(said)}
    if not asked or limit <= 0:
        return []
    chunks = [
        (page_id, title, text, set(terms(f"{text}")) | set(terms(title)))
        for page_id, title, body in pages
        for text in _chunks(body or "")
    ]
    if not chunks:
        return []
    import math

    n = len(chunks)
    df = {t: sum(1 for c in chunks if t in c[3]) for t in asked}
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in asked}
    total = sum(idf.values())
    found = []
    for position, (page_id, title, text, have) in enumerate(chunks):
        hits = asked & have
        if not hits or all(t.startswith("_") for t in hits) and len(hits) < 2:
            continue  # one loose synonym group alone is not "relevant"
        value = sum(idf[t] for t in hits) / total
        found.append((-round(value, 6), position, Passage(title, text, round(value, 3), page_id)))
    return [p for *_, p in sorted(found)[:limit]]


# Overlaps: jobs callers could confuse.
OVERLAP_MARGIN = 0.2


def overlaps(candidates) -> list[Overlap]:
    candidates = tuple(candidates)
    found, seen = [], set()
    for candidate in candidates:
        probes = dict.fromkeys(
            p.strip() for p in (candidate.trigger, *candidate.examples) if p.strip()
        )
        for phrase in probes:
            # A test case is probed without itself (a job always matches its own sentence,
            # which would hide the overlap); the caller intent is kept, as the job's core text.
            without = replace(
                candidate, examples=tuple(e for e in candidate.examples if e.strip() != phrase)
            )
            ranking = rank([without if c is candidate else c for c in candidates], phrase)
            own = next(m for m in ranking if m.id == candidate.id)
            for other in ranking:
                if other.id == candidate.id or other.score < own.score - OVERLAP_MARGIN:
                    continue
                key = (frozenset((candidate.id, other.id)), phrase.lower())
                if key in seen:
                    continue
                seen.add(key)
                found.append(Overlap(phrase, own, other, _suggestions(phrase, own, other)))
    return found


def _suggestions(phrase: str, expected: Match, reached: Match) -> tuple[str, ...]:
    return (
        f"Sharpen the caller intent of \u201c{expected.name}\u201d or \u201c{reached.name}\u201d "
        "so each says what only that job handles.",
        f"Add a test case to \u201c{expected.name}\u201d with words callers use for it, "
        f"like \u201c{phrase}\u201d.",
    )
