"""What the calls app adds to callflows' checks before publish (registered in apps.py):
failing scenarios (they block unless overridden), and warnings: confusable jobs and test
cases (one-turn scenarios) that pull callers toward another job (likely wrong labels)."""

from callflows.checks import WARNING, Problem

from . import routing, scenarios
from .selectors import mock

TEST = "test"


def failing_scenarios(call_flow, snapshot) -> list[Problem]:
    """Every scenario runs against the snapshot; each failure names its turn and expectation."""
    return [
        Problem(
            TEST,
            f"Scenario “{result.scenario.name}” on “{step_name}”: {result.problem}",
            step=step_name,
            job=(result.scenario.expect or {}).get("job") or "",
        )
        for step_name, result in scenarios.failing_scenarios(call_flow, snapshot)
    ]


def _overlap_decision(overlap) -> str:
    """What routing the phrase decides today, in words (no scores on owners' pages)."""
    expected, reached = f"“{overlap.expected.name}”", f"“{overlap.reached.name}”"
    if overlap.decision == routing.CLARIFY:
        return "Today Sona would ask the caller which they mean."
    if overlap.decision == routing.NONE:
        return "Today neither fits well enough, and Sona would pick no job."
    if overlap.reached.score > overlap.expected.score:
        return f"Today {reached} comes out ahead of {expected}."
    return f"Today Sona still prefers {expected}, but {reached} comes close."


def overlap_message(step_name: str, overlap) -> str:
    """A confusable pair, the decision routing its phrase makes, and what to do about it (the
    router's suggestions: it suggests a test case only for words not saved as one yet)."""
    return " ".join(
        (
            f"On “{step_name}”, callers asking about “{overlap.phrase}” may reach "
            f"“{overlap.reached.name}” instead of “{overlap.expected.name}”.",
            _overlap_decision(overlap),
            *overlap.suggestions,
        )
    )


def pull_message(step_name: str, pull, overlap=None) -> str:
    """A test case that pulls callers toward another job; with the overlap it makes, what to
    do if its label is right after all."""
    text = (
        f"On “{step_name}”, the test case “{pull.example}” of “{pull.expected.name}”: this "
        f"example pulls callers toward “{pull.pulled.name}”; check its label."
    )
    if overlap is not None and overlap.suggestions:
        text += " If the label is right: " + " ".join(overlap.suggestions)
    return text


def confusable_jobs(call_flow, snapshot) -> list[Problem]:
    """Warnings: test cases that pull callers toward another job (likely wrong labels), then
    jobs callers could confuse."""
    problems = []
    for found in mock.step_routing(call_flow, snapshot):
        problems += [
            Problem(
                WARNING,
                pull_message(found.step_name, pull, found.pull_overlaps.get(pull)),
                step=found.step_name,
                job=pull.expected.name,
                job_id=pull.expected.id,
            )
            for pull in found.pulls
        ]
        problems += [
            Problem(
                WARNING,
                overlap_message(found.step_name, overlap),
                step=found.step_name,
                job=overlap.expected.name,
                job_id=overlap.expected.id,
            )
            for overlap in found.overlaps
        ]
    return problems
