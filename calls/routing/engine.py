"""Dispatch to the configured backend, and the three decisions every backend shares.

ROUTER_BACKEND: "builtin" (default), "llm" (falls back to builtin, visibly, on any failure), or
the dotted path of a class with a route() method of the signature below (core/backends.py
reads it).
"""

import math
import re
from dataclasses import dataclass, replace

from core.backends import BackendSetting

from . import CLARIFY, JOB, LIKELY, NONE, SURE, UNSURE, Decision, Match, Overlap, Passage, builtin
from .text import sentences, terms

ROUTER = BackendSetting(
    "ROUTER_BACKEND",
    method="route",
    short_names={
        "builtin": "calls.routing.engine.BuiltinRouter",
        "llm": "calls.routing.llm.LLMRouter",
    },
)

# Calibrated with `bench/routing.py --calibrate` on labelled sentences that include callers no
# job fits (../shared/routing, its dev/ set and bench/data/routing_{dev,heldout}.json: 319
# in scope, 85 no-job), never on the frozen held-out set (bench/data/routing_fresh.json).
# Scores are builtin.score values. The grid and its trade-offs are in the bench's output:
# - NONE_BELOW and OFF_TOPIC_MARGIN: the pair answering "none" to the most no-job sentences for
#   at most ~2 points of in-scope accuracy (0.19 / 0.16: 53% of no-job sentences, 83.7% -> 81.5%);
# - CLARIFY_MARGIN: 0.01 asks on ~4% of in-scope sentences, and 93% of those questions name the
#   right job among the two (a pick there was right only 60% of the time);
# - SURE / LIKELY: a job picked with value >= 0.35 and margin >= 0.10 was right 97% of the time;
#   >= 0.25 and margin >= 0.03, 80%; below, about 65%.
NONE_BELOW = 0.19  # the best job's score under it: no job fits
OFF_TOPIC_MARGIN = 0.16  # nearer a nuisance call (off_topic.py) than any job by this: no job
CLARIFY_MARGIN = 0.01  # the runner-up this close (and itself a fit): ask which
SURE_AT, SURE_MARGIN = 0.35, 0.10
LIKELY_AT, LIKELY_MARGIN = 0.25, 0.03
# A caller on a job (`current`) moves to another only when it beats the current one by this much.
CHANGE_OF_INTENT = 0.08
# A turn this weak alone ("yes", "tomorrow at 3") is read together with the caller's last turn.
VAGUE_BELOW = NONE_BELOW


def route(candidates, said, history=(), current=None, options=()) -> Decision:
    return ROUTER.load().route(candidates, said, history, current, options)


def calibrated(value: float) -> float:
    """A built-in score as 0..1, 0.5 at the no-job line (what pages and the API show)."""
    return round(1 / (1 + math.exp(-(value - NONE_BELOW) * 12)), 3)


def _match(scored: builtin.Scored) -> Match:
    c = scored.candidate
    return Match(c.id, c.name, calibrated(scored.value), why(scored))


def why(scored: builtin.Scored) -> tuple[str, ...]:
    """In words: the caller's words that matched (and through which group), the nearest
    sentence of the job."""
    reasons = []
    for said_words, job_words, group in scored.hits:
        if group and said_words.lower() != job_words.lower():
            reasons.append(
                f"\u201c{said_words}\u201d means {group.replace('_', ' ')}, like "
                f"\u201c{job_words}\u201d"
            )
        elif not group:
            reasons.append(f"\u201c{said_words}\u201d")
    reasons = list(dict.fromkeys(reasons))
    if scored.nearest and scored.semantic > 0.3:
        reasons.append(f"nearest: \u201c{scored.nearest}\u201d")
    return tuple(reasons)


def scored(candidates, said: str, history=()) -> list[builtin.Scored]:
    """Every candidate scored, best first (ties: the step's order, so answers are stable)."""
    candidates = tuple(candidates)
    if not candidates:
        return []
    found = builtin.score(candidates, said)
    if history and max(s.value for s in found) < VAGUE_BELOW:
        # "yes" or "tomorrow at 3" says little alone; the turn before it says what it is about.
        context = builtin.score(candidates, f"{history[-1]} {said}")
        if max(s.value for s in context) > max(s.value for s in found):
            found = context
    order = sorted(range(len(found)), key=lambda i: (-found[i].value, i))
    return [found[i] for i in order]


def rank(candidates, said: str, history=()) -> list[Match]:
    return [_match(s) for s in scored(candidates, said, history)]


def confidence(best: float, margin: float) -> str:
    if best >= SURE_AT and margin >= SURE_MARGIN:
        return SURE
    if best >= LIKELY_AT and margin >= LIKELY_MARGIN:
        return LIKELY
    return UNSURE


def _intent_phrase(match: Match, candidates) -> str:
    c = next((c for c in candidates if c.id == match.id), None)
    voice = builtin.caller_voice(c.trigger) if c and c.trigger else ""
    m = re.match(r"(?i)^I (?:want|need|would like|am calling|am looking) (to .+)$", voice)
    # Only a short phrase in the caller's voice reads well in a question ("to book a car"),
    # not one that goes on about the caller ("to join or asks about prices").
    third_person = (
        re.search(r"(?i)\b(asks|wants|needs|is|has|their|they)\b", m.group(1)) if m else None
    )
    if m and len(m.group(1).split()) <= 9 and not third_person:
        return m.group(1).rstrip(".?! ")
    name = match.name
    return "about " + (name[0].lower() + name[1:] if name[1:2].islower() else name)


def question(a: Match, b: Match, candidates) -> str:
    return f"Are you calling {_intent_phrase(a, candidates)}, or {_intent_phrase(b, candidates)}?"


_FIRST = re.compile(r"\b(first|former|1st|number one)\b", re.I)
_SECOND = re.compile(r"\b(second|latter|2nd|last one|other one|number two)\b", re.I)


def _settle(candidates, said, history, options, found) -> Decision | None:
    """The caller answers a CLARIFY question: pick between the two `options`, unless they
    clearly asked for a third job."""
    by_id = {s.candidate.id: s for s in found}
    pair = [by_id[i] for i in options if i in by_id]
    if len(pair) != 2:
        return None
    if _FIRST.search(said) and not _SECOND.search(said):
        pick = pair[0]
    elif _SECOND.search(said) and not _FIRST.search(said):
        pick = pair[1]
    else:
        best = found[0]
        if (
            best.candidate.id not in options
            and best.value >= NONE_BELOW
            and (best.value - max(p.value for p in pair) >= CHANGE_OF_INTENT)
        ):
            return None  # a new request: route it as one
        context = scored(candidates, f"{history[-1]} {said}" if history else said)
        in_pair = [s for s in context if s.candidate.id in options]
        pick = in_pair[0] if in_pair else pair[0]
    ranking = tuple(_match(s) for s in found)
    job = next(m for m in ranking if m.id == pick.candidate.id)
    runner = next(m for m in ranking if m.id in options and m.id != job.id)
    return Decision(JOB, job, runner, ranking, confidence=LIKELY)


def decide(found, candidates, current=None) -> Decision:
    """The three decisions from built-in scores (best first)."""
    ranking = tuple(_match(s) for s in found)
    if not ranking:
        return Decision(NONE, None, None, ())
    best = found[0]
    second = found[1] if len(found) > 1 else None
    kept = next((s for s in found if s.candidate.id == current), None)
    if kept is not None and not (
        best is not kept
        and best.value >= NONE_BELOW
        and best.value - kept.value >= CHANGE_OF_INTENT
    ):
        job = next(m for m in ranking if m.id == current)
        runner = next((m for m in ranking if m.id != current), None)
        return Decision(JOB, job, runner, ranking, confidence=LIKELY, continued=True)
    if best.value < NONE_BELOW or best.off_topic - best.semantic > OFF_TOPIC_MARGIN:
        return Decision(NONE, None, ranking[0], ranking)
    margin = best.value - second.value if second else 1.0
    if second is not None and margin < CLARIFY_MARGIN and second.value >= NONE_BELOW:
        options = ranking[:2]
        return Decision(
            CLARIFY,
            None,
            ranking[1],
            ranking,
            options=options,
            question=question(*options, candidates),
        )
    runner = ranking[1] if len(ranking) > 1 else None
    return Decision(JOB, ranking[0], runner, ranking, confidence=confidence(best.value, margin))


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


def route_builtin(candidates, said, history=(), current=None, options=()) -> Decision:
    candidates = tuple(candidates)
    found = scored(candidates, said, history)
    if not found:
        return Decision(NONE, None, None, ())
    if options:
        settled = _settle(candidates, said, history, options, found)
        if settled is not None:
            return settled
    if is_answer(said):
        ranking = tuple(_match(s) for s in found)
        kept = next((m for m in ranking if m.id == current), None)
        if kept is not None:
            runner = next((m for m in ranking if m.id != current), None)
            return Decision(JOB, kept, runner, ranking, confidence=LIKELY, continued=True)
        if not history:
            # "yes, at eight" with nothing before it names no intent, whatever a job's
            # instructions say about eight; with history, scored() read it with the last turn.
            return Decision(NONE, None, ranking[0], ranking)
    return decide(found, candidates, current)


class BuiltinRouter:
    """ROUTER_BACKEND "builtin": offline and deterministic (the runtime keeps its answers)."""

    def route(self, candidates, said, history=(), current=None, options=()) -> Decision:
        return route_builtin(candidates, said, history, current, options)


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


# Examples (owners' test cases), overlaps and routing health: each example is routed without
# itself (a job always matches its own sentence, which would hide what the example does).


def without_example(candidate, example: str):
    """The candidate without one of its examples (its stored vectors kept in step)."""
    texts = builtin.routed_texts(candidate)
    examples = tuple(e for e in candidate.examples if e.strip() != example.strip())
    vectors = candidate.vectors
    if vectors is not None and len(vectors) == len(texts):
        kept = set(builtin.routed_texts(replace(candidate, examples=examples, vectors=None)))
        vectors = vectors[[i for i, t in enumerate(texts) if t in kept]]
    return replace(candidate, examples=examples, vectors=vectors)


def leave_one_out(candidates) -> list[tuple[object, str, Decision]]:
    """(candidate, example, the decision for the example routed without itself), for every
    example of every candidate, in the step's order."""
    candidates = tuple(candidates)
    found = []
    for candidate in candidates:
        for example in dict.fromkeys(e.strip() for e in candidate.examples if e.strip()):
            others = tuple(without_example(c, example) if c is candidate else c for c in candidates)
            found.append((candidate, example, route_builtin(others, example)))
    return found


@dataclass(frozen=True)
class Pull:
    """An example of `expected` that the router (without it) sends to `pulled`: likely a
    wrong label, and it pulls callers who say something like it toward `expected`."""

    example: str
    expected: Match
    pulled: Match


def pulls(candidates, tried=None) -> list[Pull]:
    found = []
    for candidate, example, decision in tried if tried is not None else leave_one_out(candidates):
        top = decision.ranking[0] if decision.ranking else None
        if top is not None and top.id != candidate.id and decision.decision != NONE:
            own = next(m for m in decision.ranking if m.id == candidate.id)
            found.append(Pull(example, own, top))
    return found


@dataclass(frozen=True)
class HealthRow:
    """How one attached job's examples route (Rasa's intent report, per job)."""

    job_id: int
    name: str
    cases: int
    right: int
    confused: tuple[tuple[str, int], ...]  # (what they went to: a job's name, "no job" or
    # "a question", how often), most first


def health(candidates, tried=None) -> list[HealthRow]:
    tried = leave_one_out(candidates) if tried is None else tried
    rows = []
    for candidate in candidates:
        mine = [d for c, _, d in tried if c.id == candidate.id]
        right = sum(1 for d in mine if d.decision == JOB and d.job.id == candidate.id)
        wrong: dict[str, int] = {}
        for d in mine:
            if d.decision == JOB and d.job.id != candidate.id:
                wrong[d.job.name] = wrong.get(d.job.name, 0) + 1
            elif d.decision == CLARIFY and candidate.id not in {o.id for o in d.options}:
                wrong["a question"] = wrong.get("a question", 0) + 1
            elif d.decision == CLARIFY:
                other = next(o.name for o in d.options if o.id != candidate.id)
                wrong[f"a question with {other}"] = wrong.get(f"a question with {other}", 0) + 1
            elif d.decision == NONE:
                wrong["no job"] = wrong.get("no job", 0) + 1
        confused = tuple(sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append(HealthRow(candidate.id, candidate.name, len(mine), right, confused))
    return rows


# Overlaps: jobs callers could confuse.
OVERLAP_MARGIN = 0.05  # another job within this (built-in score) of the phrase's own job


def overlaps(candidates) -> list[Overlap]:
    """Each job's caller intent and examples, routed (examples without themselves): where
    another job comes within OVERLAP_MARGIN, or wins, callers could be confused."""
    candidates = tuple(candidates)
    found, seen = [], set()
    for candidate in candidates:
        probes = dict.fromkeys(
            p.strip() for p in (candidate.trigger, *candidate.examples) if p.strip()
        )
        for phrase in probes:
            without = without_example(candidate, phrase)
            others = tuple(without if c is candidate else c for c in candidates)
            results = scored(others, phrase)
            decision = decide(results, others)
            own = next(s for s in results if s.candidate.id == candidate.id)
            for other in results:
                if other is own or other.value < own.value - OVERLAP_MARGIN:
                    continue
                key = (frozenset((candidate.id, other.candidate.id)), phrase.lower())
                if key in seen:
                    continue
                seen.add(key)
                expected, reached = _match(own), _match(other)
                tips = _suggestions(phrase, expected, reached, candidate)
                found.append(Overlap(phrase, expected, reached, tips, decision.decision))
    return found


def _suggestions(phrase: str, expected: Match, reached: Match, candidate) -> tuple[str, ...]:
    tips = [
        f"Sharpen the caller intent of \u201c{expected.name}\u201d or \u201c{reached.name}\u201d "
        "so each says what only that job handles."
    ]
    if phrase not in {e.strip() for e in candidate.examples}:
        tips.append(
            f"Add a test case to \u201c{expected.name}\u201d with words callers use for it, "
            f"like \u201c{phrase}\u201d."
        )
    return tuple(tips)
