"""The "llm" router backend: the LLM endpoint (workspaces/llm.py) picks the job.

The model gets the step's jobs (id, name, caller intent, description, test cases, the start of
the instructions), the caller's earlier turns and current job, and answers JSON:
{"job_id": <id or null>, "scores": {"<id>": 0..1, ...}, "reason": "<short>"}. The answer is
checked (ids must be the candidates', scores numbers in 0..1); on any failure the built-in
router answers and Decision.notice says why, in words an owner understands.
"""

import json
from dataclasses import replace

from workspaces.llm import LLMUnavailable, chat

from . import JOB, LIKELY, NONE, Decision, Match
from .engine import rank, route_builtin

SYSTEM_PROMPT = """\
You route phone calls for a small business. Its AI phone agent, Sona, can do the jobs listed \
below. Pick the one job a careful receptionist would pick for what the caller said, or none \
when no job fits (wrong number, something the business does not handle). If the caller is \
already on a job (current job), keep it unless they clearly ask for something else.
Answer with one JSON object and nothing else:
{"job_id": <the id of the job, or null for none>, "scores": {"<id>": <0 to 1, how well each \
job fits>, ...}, "reason": "<one short sentence: which words of the caller point to the job>"}"""

MAX_INSTRUCTIONS = 400


def _prompt(candidates, said, history, current) -> str:
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
    if current is not None:
        parts.append(f"Current job id: {current}")
    parts.append(f"The caller now says: {said}")
    return "\n\n".join(parts)


class _Invalid(Exception):
    pass


def _parse(content: str, candidates) -> tuple[int | None, dict[int, float], str]:
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        raise _Invalid("it was not JSON") from None
    if not isinstance(answer, dict):
        raise _Invalid("it was not a JSON object")
    ids = {c.id for c in candidates}
    job_id = answer.get("job_id")
    if isinstance(job_id, str) and job_id.strip().isdigit():
        job_id = int(job_id)
    if job_id is not None and (not isinstance(job_id, int) or job_id not in ids):
        raise _Invalid(f"it named job {job_id!r}, which is not one of this step's jobs")
    scores = {}
    raw_scores = answer.get("scores") or {}
    if not isinstance(raw_scores, dict):
        raise _Invalid("its scores were not a list of job ids")
    for key, value in raw_scores.items():
        key = int(key) if str(key).strip().isdigit() else key
        if key not in ids:
            raise _Invalid(f"it scored job {key!r}, which is not one of this step's jobs")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise _Invalid(f"its score {value!r} was not a number from 0 to 1")
        scores[key] = float(value)
    reason = answer.get("reason") or ""
    if not isinstance(reason, str):
        raise _Invalid("its reason was not text")
    return job_id, scores, reason.strip()[:300]


def route_llm(candidates, said, history=(), current=None, options=()) -> Decision:
    candidates = tuple(candidates)
    if not candidates:
        return Decision(NONE, None, None, (), backend="llm")
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _prompt(candidates, said, history, current)},
    ]
    try:
        job_id, scores, reason = _parse(chat(messages, temperature=0, json=True), candidates)
    except LLMUnavailable as error:
        return _fallback(candidates, said, history, current, options, f"was unavailable ({error})")
    except _Invalid as error:
        return _fallback(candidates, said, history, current, options, f"answer was not used ({error})")
    # Jobs the model did not score keep the built-in score, so the ranking lists every job.
    builtin = {m.id: m for m in rank(candidates, said, history)}
    if job_id is not None:
        scores.setdefault(job_id, max([*scores.values(), builtin[job_id].score]))
    order = {c.id: i for i, c in enumerate(candidates)}
    ranking = sorted(
        (
            Match(
                c.id,
                c.name,
                round(scores.get(c.id, builtin[c.id].score), 3),
                (reason,) if c.id == job_id and reason else builtin[c.id].why,
            )
            for c in candidates
        ),
        # The model's pick first, then by score; ties in the step's order (deterministic).
        key=lambda m: (m.id != job_id, -m.score, order[m.id]),
    )
    chosen = ranking[0] if job_id is not None else None
    runner = next((m for m in ranking if chosen is None or m.id != chosen.id), None)
    if chosen is None:
        return Decision(NONE, None, ranking[0], tuple(ranking), backend="llm")
    continued = current is not None and chosen.id == current
    return Decision(
        JOB, chosen, runner, tuple(ranking), confidence=LIKELY, continued=continued, backend="llm"
    )


def _fallback(candidates, said, history, current, options, why: str) -> Decision:
    decision = route_builtin(candidates, said, history, current, options)
    notice = f"The AI router {why}; the built-in router answered."
    return replace(decision, backend="builtin", notice=notice)
