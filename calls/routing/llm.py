"""The "llm" router backend: the LLM endpoint (core/llm.py) answers the three decisions.

The model gets the step's jobs (id, name, caller intent, description, test cases, the start of
the instructions), the caller's earlier turns, the current job and the two options of the last
turn's question, and answers one JSON object:

    {"decision": "job" | "clarify" | "none", "job_id": <id or null>,
     "options": [<id>, <id>] (clarify), "question": "<what Sona asks>" (clarify),
     "confidence": "Sure" | "Likely" | "Unsure", "scores": {"<id>": 0..1}, "reason": "<short>"}

The answer is checked strictly: a job must be one of the step's, a question names two different
jobs of the step, no job means job_id null, scores are numbers from 0 to 1. Anything else (or no
answer: the endpoint down, slow or not configured) and the built-in router answers, with
Decision.notice saying why in words an owner understands.
"""

import json
from dataclasses import dataclass, replace

from core.llm import LLMUnavailable, chat

from . import CLARIFY, DECISIONS, JOB, LIKELY, NONE, SURE, UNSURE, Decision, Match
from .engine import question as builtin_question
from .engine import rank, route_builtin

SYSTEM_PROMPT = """\
You route phone calls for a small business. Its AI phone agent, Sona, can do the jobs listed \
below. For what the caller says, decide one of three things:
- "job": one job fits. Pick the one a careful receptionist would pick.
- "clarify": two jobs both fit and the caller's words do not tell which (for example "I'm \
calling about my appointment" when one job books appointments and another changes them). \
Sona then asks the caller which one, in one short spoken question naming both in the caller's \
words, e.g. "Are you calling to book a new appointment, or to change one you have?".
- "none": no job fits (a wrong number, something the business does not handle).
If the caller is already on a job (current job), keep it unless they clearly ask for something \
else. If Sona just asked the caller to choose between two jobs (options), the caller's words \
now settle it: answer "job" with the one they chose, unless they clearly ask for something \
else.
Answer with one JSON object and nothing else:
{"decision": "job" | "clarify" | "none", "job_id": <the id of the job for "job", else null>, \
"options": [<id>, <id>] (for "clarify" only: the two jobs Sona asks between), \
"question": "<for "clarify" only: what Sona asks the caller>", \
"confidence": "Sure" | "Likely" | "Unsure", \
"scores": {"<id>": <0 to 1, how well each job fits>, ...}, \
"reason": "<one short sentence: which words of the caller point to the decision>"}"""

MAX_INSTRUCTIONS = 400
MAX_QUESTION = 300
MAX_REASON = 300
CONFIDENCES = {c.lower(): c for c in (SURE, LIKELY, UNSURE)}
NOT_ON_STEP = "named a job that is not on this step"


def _prompt(candidates, said, history, current, options) -> str:
    names = {c.id: c.name for c in candidates}
    jobs = []
    for c in candidates:
        job = {"id": c.id, "name": c.name, "caller_intent": c.trigger}
        if c.description:
            job["description"] = c.description
        if c.examples:
            job["callers_said"] = list(c.examples[:8])
        if c.instructions:
            job["instructions"] = c.instructions[:MAX_INSTRUCTIONS]
        jobs.append(job)
    parts = [f"Jobs:\n{json.dumps(jobs, indent=1)}"]
    if history:
        parts.append("Earlier, the caller said:\n" + "\n".join(f"- {h}" for h in history[-6:]))
    if current in names:
        parts.append(f"Current job id: {current} ({names[current]})")
    asked = [i for i in dict.fromkeys(options) if i in names]
    if len(asked) == 2:
        a, b = asked
        parts.append(
            f"Options: Sona just asked the caller to choose between job {a} ({names[a]}) and "
            f"job {b} ({names[b]})."
        )
    parts.append(f"The caller now says: {said}")
    return "\n\n".join(parts)


class _Invalid(Exception):
    """str(error) completes "The AI router …", in words an owner understands."""


@dataclass(frozen=True)
class _Answer:
    decision: str
    job_id: int | None
    options: tuple[int, ...]
    question: str
    confidence: str
    scores: dict[int, float]
    reason: str


def _job_id(value, ids) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("answered in the wrong format (a job id was not a number)")
    if value not in ids:
        raise _Invalid(NOT_ON_STEP)
    return value


def _text(answer: dict, key: str) -> str:
    value = answer.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"answered in the wrong format (its {key} was not text)")
    return " ".join(value.split())


def _parse(content: str, candidates) -> _Answer:
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        raise _Invalid("answered something that was not JSON") from None
    if not isinstance(answer, dict):
        raise _Invalid("answered in the wrong format (not a JSON object)")
    ids = {c.id for c in candidates}

    decision = answer.get("decision")
    decision = decision.strip().lower() if isinstance(decision, str) else decision
    if decision not in DECISIONS:
        raise _Invalid("gave no decision (a job, a question or no job)")

    raw_id = answer.get("job_id")
    job_id = None if raw_id is None else _job_id(raw_id, ids)
    options: tuple[int, ...] = ()
    question = ""
    if decision == JOB and job_id is None:
        raise _Invalid("chose a job without naming it")
    if decision == NONE and job_id is not None:
        raise _Invalid("answered that no job fits but named one")
    if decision == CLARIFY:
        raw_options = answer.get("options")
        if not isinstance(raw_options, list) or len(raw_options) != 2:
            raise _Invalid("asked a question without two jobs to choose between")
        options = tuple(_job_id(value, ids) for value in raw_options)
        if options[0] == options[1]:
            raise _Invalid("asked a question between a job and itself")
        if job_id is not None and job_id not in options:
            raise _Invalid("asked a question between two jobs but named a third")
        question = _text(answer, "question")
        if len(question) > MAX_QUESTION:
            raise _Invalid(f"wrote a question longer than {MAX_QUESTION} characters")

    raw_confidence = answer.get("confidence")
    confidence = CONFIDENCES.get(
        raw_confidence.strip().lower() if isinstance(raw_confidence, str) else "", LIKELY
    )

    scores = {}
    raw_scores = answer.get("scores")
    if raw_scores is None:
        raw_scores = {}
    if not isinstance(raw_scores, dict):
        raise _Invalid("answered in the wrong format (its scores were not a list of jobs)")
    for key, value in raw_scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise _Invalid("gave a job a score that is not a number from 0 to 1")
        scores[_job_id(key, ids)] = float(value)

    reason = _text(answer, "reason")[:MAX_REASON]
    return _Answer(decision, job_id, options, question, confidence, scores, reason)


class LLMRouter:
    """ROUTER_BACKEND "llm": the model decides; the built-in router answers, with a notice, when
    it fails."""

    def route(self, candidates, said, history=(), current=None, options=()) -> Decision:
        return route_llm(candidates, said, history, current, options)


def route_llm(candidates, said, history=(), current=None, options=()) -> Decision:
    candidates = tuple(candidates)
    options = tuple(options)
    if not candidates:
        return Decision(NONE, None, None, (), backend="llm")
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _prompt(candidates, said, history, current, options)},
    ]
    try:
        answer = _parse(chat(messages, temperature=0, json=True), candidates)
    except LLMUnavailable as error:
        return _fallback(candidates, said, history, current, options, f"was unavailable ({error})")
    except _Invalid as error:
        return _fallback(candidates, said, history, current, options, str(error))
    return _decision(answer, candidates, said, history, current)


def _decision(answer: _Answer, candidates, said, history, current) -> Decision:
    # Jobs the model did not score keep the built-in score (and every job the built-in `why`),
    # so the ranking lists every job.
    builtin = {m.id: m for m in rank(candidates, said, history)}
    chosen = (answer.job_id,) if answer.decision == JOB else answer.options
    scores = {c.id: answer.scores.get(c.id, builtin[c.id].score) for c in candidates}
    for job_id in chosen:
        if job_id not in answer.scores:  # the model's pick, unscored, is as good as the best
            scores[job_id] = max(scores.values())
    order = {c.id: i for i, c in enumerate(candidates)}

    def match(c) -> Match:
        why = (answer.reason,) if c.id in chosen and answer.reason else builtin[c.id].why
        return Match(c.id, c.name, round(scores[c.id], 3), why)

    # The model's pick first (both options, in its order), then the jobs it scored, then the
    # rest by the built-in score (the two scales do not compare); ties in the step's order.
    ranking = tuple(
        sorted(
            map(match, candidates),
            key=lambda m: (
                chosen.index(m.id) if m.id in chosen else len(chosen),
                m.id not in answer.scores,
                -m.score,
                order[m.id],
            ),
        )
    )
    if answer.decision == NONE:
        return Decision(NONE, None, ranking[0], ranking, backend="llm")
    if answer.decision == CLARIFY:
        pair = ranking[:2]
        question = answer.question or builtin_question(*pair, candidates)
        return Decision(
            CLARIFY, None, pair[1], ranking, options=pair, question=question, backend="llm"
        )
    job = ranking[0]
    return Decision(
        JOB,
        job,
        ranking[1] if len(ranking) > 1 else None,
        ranking,
        confidence=answer.confidence,
        continued=current is not None and job.id == current,
        backend="llm",
    )


def _fallback(candidates, said, history, current, options, why: str) -> Decision:
    decision = route_builtin(candidates, said, history, current, options)
    notice = f"The AI router {why}; the built-in router answered."
    return replace(decision, backend="builtin", notice=notice)
