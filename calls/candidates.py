"""The one way a Sona step's jobs become the router's candidates.

Mock calls and test runs (calls/selectors.py: the draft or a published version, resolved with
today's job text), the publish checks (failing test cases, confusable jobs) and the live
POST /route (calls/runtime.py: the live body's job dicts) all build them here: the job's texts,
the owners' test cases as examples (one query for every step asked for) and the stored vectors
(calls/vectors.py: one more query), so the router embeds only what the caller says.
"""

from collections.abc import Mapping, Sequence

from . import routing, vectors
from .models import StepTestCase


def steps_candidates(
    *,
    steps: Mapping[str, Sequence],
    call_flow_id: int | None = None,
    phone_id: int | None = None,
) -> dict[str, tuple[routing.Candidate, ...]]:
    """{step key: its candidates, in the jobs' order} for `steps` ({step key: its jobs, Job rows
    or the live body's job dicts}) of one call flow, named by its id or its number's id. Two
    queries whatever the number of steps (none without jobs): the test cases, the vectors."""
    if (call_flow_id is None) == (phone_id is None):
        raise TypeError("Name the call flow by call_flow_id or by phone_id.")
    steps = {key: list(jobs) for key, jobs in steps.items()}
    ids = {vectors.candidate(job).id for jobs in steps.values() for job in jobs}
    if not ids:
        return {key: () for key in steps}
    cases = StepTestCase.objects.filter(step_key__in=list(steps), expected_job_id__in=ids)
    if call_flow_id is not None:
        cases = cases.filter(call_flow_id=call_flow_id)
    else:
        cases = cases.filter(call_flow__phone_number_id=phone_id)
    said: dict[tuple[str, int], list[str]] = {}
    for key, job_id, text in cases.order_by("pk").values_list(
        "step_key", "expected_job_id", "said"
    ):
        said.setdefault((key, job_id), []).append(text)
    built = [
        (key, vectors.candidate(job, said.get((key, vectors.candidate(job).id), ())))
        for key, jobs in steps.items()
        for job in jobs
    ]
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
