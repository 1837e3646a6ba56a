"""What the calls app adds to callflows' checks before publish (registered in apps.py):
failing saved test cases (they block unless overridden) and confusable jobs (warnings)."""

from callflows.checks import WARNING, Problem

from . import selectors

TEST = "test"


def failing_test_cases(call_flow, snapshot) -> list[Problem]:
    return [
        Problem(
            TEST,
            f"Test case “{result.case.said}”: {result.problem}",
            job=result.case.expected_job_name,
            job_id=result.case.expected_job_id,
        )
        for result in selectors.failing_cases(call_flow, snapshot)
    ]


def overlap_message(step_name: str, overlap) -> str:
    return (
        f"On “{step_name}”, callers asking about “{overlap.phrase}” may reach "
        f"“{overlap.reached.name}” ({overlap.reached.score:.2f}) instead of "
        f"“{overlap.expected.name}” ({overlap.expected.score:.2f}). "
        + (
            " ".join(overlap.suggestions)
            or f"Sharpen the caller intent of one of them, or save a test case for “{overlap.phrase}”."
        )
    )


def confusable_jobs(call_flow, snapshot) -> list[Problem]:
    return [
        Problem(
            WARNING,
            overlap_message(step_name, overlap),
            step=step_name,
            job=overlap.expected.name,
            job_id=overlap.expected.id,
        )
        for step_name, overlap in selectors.step_overlaps(call_flow, snapshot)
    ]
