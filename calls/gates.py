"""The publish gate callflows runs (registered in apps.py): saved test cases must pass."""

from callflows.checks import Problem

from . import selectors


def failing_test_cases(call_flow, snapshot) -> list[Problem]:
    return [
        Problem(
            "test",
            f"Test case “{result.case.said}”: {result.problem}",
            job=result.case.expected_job_name,
            job_id=result.case.expected_job_id,
        )
        for result in selectors.failing_cases(call_flow, snapshot)
    ]
