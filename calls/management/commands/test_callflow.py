import json

from django.core.management.base import CommandError

from calls import selectors
from calls.models import StepTestCase

from ._common import CallsCommand, number_for, target


class Command(CallsCommand):
    help = (
        "Run every saved test case of every Sona step of a number against its draft or live "
        "version (the same check that blocks publishing). Prints PASS or FAIL with the reason "
        "for each case and a total; exits with status 1 when a case fails, so a team can run "
        "it in its own CI. Read-only; any member of the workspace may run it."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)

    def handle(self, *args, number, version, as_json, user, **options):
        phone = number_for(number, user, "run test cases")
        snapshot, live_number = selectors.snapshot_of(phone.call_flow, version)
        cases = list(
            StepTestCase.objects.filter(call_flow=phone.call_flow)
            .select_related("expected_job")
            .order_by("pk")
        )
        results = []
        for key in [step["key"] for step in selectors.sona_steps(snapshot)]:
            mine = [c for c in cases if c.step_key == key]
            if mine:
                goal = target(phone, version, key)
                results += [(goal, r) for r in selectors.run_cases(goal, mine)]
        ran = {r.case.pk for _, r in results}
        skipped = [c for c in cases if c.pk not in ran]
        label = "draft" if version == selectors.DRAFT else f"live version {live_number}"
        failed = [r for _, r in results if not r.passed]
        for goal, result in results:
            self.stdout.write(_json(goal, result) if as_json else _text(goal, result))
        for case in skipped:
            line = (
                _dumps({"step": case.step_key, "said": case.said, "skipped": True})
                if as_json
                else f"SKIP  “{case.said}”: the step {case.step_key} is not in the {label}."
            )
            self.stdout.write(line)
        total = (
            f"{len(results)} test case(s) against the {label} of {phone.number}: "
            f"{len(results) - len(failed)} passed, {len(failed)} failed"
            + (f", {len(skipped)} skipped (their step is not in it)" if skipped else "")
            + "."
        )
        if not cases:
            total = f"No test cases are saved for {phone.number}: nothing to run."
        if as_json:
            summary = {
                "summary": True,
                "number": phone.number,
                "version": label,
                "total": len(results),
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "skipped": len(skipped),
            }
            self.stdout.write(_dumps(summary))
        else:
            self.stdout.write(total)
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} test case(s) failed.")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def _expected(case: StepTestCase) -> str | None:
    return case.expected_job_name if case.expects_job else None


def _json(goal: selectors.Target, result: selectors.CaseResult) -> str:
    case = result.case
    return _dumps(
        {
            "step": case.step_key,
            "step_name": goal.step_name,
            "said": case.said,
            "expected": _expected(case),
            "expected_action": case.expected_action or None,
            "got": result.got.name if result.got else None,
            "score": result.got.score if result.got else None,
            "passed": result.passed,
            "problem": result.problem,
        }
    )


def _text(goal: selectors.Target, result: selectors.CaseResult) -> str:
    case = result.case
    if not result.passed:
        return f"FAIL  [{goal.step_name}] “{case.said}”: {result.problem}"
    got = f"“{result.got.name}” ({result.got.score:.2f})" if result.got else "no job"
    return f"PASS  [{goal.step_name}] “{case.said}” → {got}"
