"""The one way a Sona step's jobs become the router's candidates.

Mock calls and test runs (calls/selectors/mock.py: the draft or a published version, resolved with
today's job text), the publish checks (failing test cases, confusable jobs) and the live
POST /route (calls/runtime.py: the live body's job dicts) all build them here: the job's texts,
the owners' one-turn scenarios (test cases) as examples (one query for every step asked for) and the stored vectors
(calls/vectors.py: one more query), so the router embeds only what the caller says.
"""

from collections.abc import Mapping, Sequence

from . import routing, vectors
from .models import Scenario


def steps_candidates(
    *,
    steps: Mapping[str, Sequence],
    call_flow_id: int | None = None,
    phone_id: int | None = None,
) -> dict[str, tuple[routing.Candidate, ...]]:
    """{step key: its candidates, in the jobs' order} for `steps` ({step key: its jobs, Job rows
    or the live body's job dicts}) of one call flow, named by its id or its number's id. Two
    queries whatever the number of steps (none without jobs): the scenarios, the vectors."""
    if (call_flow_id is None) == (phone_id is None):
        raise TypeError("Name the call flow by call_flow_id or by phone_id.")
    steps = {key: list(jobs) for key, jobs in steps.items()}
    if not any(steps.values()):
        return {key: () for key in steps}
    # The examples: one-turn scenarios naming a job of the step (jobs are named, and a name is
    # unique in the workspace, case-insensitively). Every scenario of the steps is read in one
    # query; the few with more turns are skipped here.
    scenarios = Scenario.objects.filter(step_key__in=list(steps))
    if call_flow_id is not None:
        scenarios = scenarios.filter(call_flow_id=call_flow_id)
    else:
        scenarios = scenarios.filter(call_flow__phone_number_id=phone_id)
    named: dict[tuple[str, str], list[str]] = {}
    for key, turns, expect in scenarios.order_by("pk").values_list("step_key", "turns", "expect"):
        job = expect.get("job") if isinstance(expect, dict) else None
        if isinstance(job, str) and isinstance(turns, list) and len(turns) == 1:
            named.setdefault((key, job.lower()), []).append(turns[0])
    built = []
    for key, jobs in steps.items():
        for job in jobs:
            plain = vectors.candidate(job)
            built.append((key, vectors.candidate(job, named.get((key, plain.name.lower()), ()))))
    filled = vectors.candidate_vectors([c for _, c in built])
    found: dict[str, list[routing.Candidate]] = {key: [] for key in steps}
    for (key, _), c in zip(built, filled, strict=True):
        found[key].append(c)
    return {key: tuple(found[key]) for key in steps}


def step_candidates(
    *, step_key: str, jobs: Sequence, call_flow_id: int | None = None, phone_id: int | None = None
) -> tuple[routing.Candidate, ...]:
    """One step's candidates (see steps_candidates)."""
    return steps_candidates(steps={step_key: jobs}, call_flow_id=call_flow_id, phone_id=phone_id)[
        step_key
    ]
