import json
import xml.etree.ElementTree as ET  # noqa: S405 (writes XML, never parses it)

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management.base import CommandError

from callflows.models import CallFlowVersion
from calls import scenarios
from calls.models import Scenario
from calls.selectors import mock
from core.errors import error_messages

from ._common import CallsCommand, number_for

BAD_INPUT = 2  # exit status for anything but a failing scenario (which is 1)


class Command(CallsCommand):
    help = (
        "Run every scenario of every Sona step of a number against its draft, its live version "
        "or published version N (the same check that blocks publishing). Prints PASS or FAIL "
        "for each, a failure naming the turn where it went wrong and the expectation, and a "
        "total. Exit status: 0 when all pass, 1 when any fails, 2 on bad input. Read-only; any "
        "member of the workspace may run it."
    )
    versions_help = "draft (default), live, or a published version's number."
    bad_input = BAD_INPUT

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--version", default=mock.DRAFT, help=self.versions_help)
        parser.add_argument("--junit", metavar="FILE", help="Also write a JUnit XML report.")

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if exc.returncode == 1 and not getattr(exc, "failed", False):
                exc.returncode = self.bad_input
            raise

    def handle(self, *args, number, version, as_json, user, junit=None, **options):
        try:
            phone = number_for(number, user, "run scenarios")
            snapshot, label = _snapshot(phone.call_flow, version)
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            raise CommandError(" ".join(error_messages(exc)), returncode=self.bad_input) from exc
        every = list(Scenario.objects.filter(call_flow=phone.call_flow).order_by("step_key", "pk"))
        keys = {s["key"] for s in mock.sona_steps(snapshot)}
        results = scenarios.snapshot_results(phone.call_flow, snapshot)
        skipped = [s for s in every if s.step_key not in keys]
        failed = [r for _, r in results if not r.passed]
        for step_name, result in results:
            self.stdout.write(_json(step_name, result) if as_json else _text(step_name, result))
        for scenario in skipped:
            self.stdout.write(
                _dumps({"step": scenario.step_key, "name": scenario.name, "skipped": True})
                if as_json
                else f"SKIP  “{scenario.name}”: the step {scenario.step_key} is not in the {label}."
            )
        if as_json:
            self.stdout.write(
                _dumps(
                    {
                        "summary": True,
                        "number": phone.number,
                        "version": label,
                        "total": len(results),
                        "passed": len(results) - len(failed),
                        "failed": len(failed),
                        "skipped": len(skipped),
                    }
                )
            )
        elif not every:
            self.stdout.write(f"No scenarios are saved for {phone.number}: nothing to run.")
        else:
            self.stdout.write(
                f"{len(results)} scenario(s) against the {label} of {phone.number}: "
                f"{len(results) - len(failed)} passed, {len(failed)} failed"
                + (f", {len(skipped)} skipped (their step is not in it)" if skipped else "")
                + "."
            )
        if junit:
            write_junit(junit, f"{phone.number} ({label})", results, skipped, label)
        if failed:
            error = CommandError(f"{len(failed)} of {len(results)} scenario(s) failed.")
            error.failed = True
            raise error


def _snapshot(call_flow, version: str) -> tuple[dict, str]:
    """The snapshot to test and its label: the draft, the live version or version N."""
    version = (version or "").strip()
    if version in mock.VERSIONS:
        snapshot, number = mock.snapshot_of(call_flow, version)
        return snapshot, ("draft" if version == mock.DRAFT else f"live version {number}")
    if not version.isdecimal():
        raise ValidationError(
            f"--version: “{version}” is not draft, live or a published version's number."
        )
    found = CallFlowVersion.objects.filter(call_flow=call_flow, number=int(version)).first()
    if found is None:
        raise ValidationError(f"--version: this number has no published version {version}.")
    return found.snapshot, f"version {found.number}"


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def _json(step_name: str, result: scenarios.ScenarioResult) -> str:
    scenario = result.scenario
    return _dumps(
        {
            "step": scenario.step_key,
            "step_name": step_name,
            "name": scenario.name,
            "turns": scenario.turns,
            "expect": scenario.expect,
            "got": result.handled_by,
            "passed": result.passed,
            "failed_turn": result.failed_turn,
            "problem": result.problem,
            "runs": result.runs,
            "passes": result.passes,
        }
    )


def _text(step_name: str, result: scenarios.ScenarioResult) -> str:
    scenario = result.scenario
    if not result.passed:
        return f"FAIL  [{step_name}] “{scenario.name}”: {result.problem}"
    got = f"“{result.handled_by}”" if result.handled_by else "no job"
    turns = len(scenario.turns)
    runs = f", {result.passes} of {result.runs} runs" if result.runs > 1 else ""
    return f"PASS  [{step_name}] “{scenario.name}” ({turns} turn{'s' * (turns != 1)}{runs}) → {got}"


def write_junit(path: str, suite_name: str, results, skipped, label: str) -> None:
    """JUnit XML: one testcase per scenario (classname: its step), a failure naming the turn
    and the expectation, with the replay turn by turn as its text."""
    failures = sum(1 for _, r in results if not r.passed)
    suite = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(results) + len(skipped)),
        failures=str(failures),
        errors="0",
        skipped=str(len(skipped)),
    )
    for step_name, result in results:
        case = ET.SubElement(
            suite, "testcase", classname=step_name, name=result.scenario.name, time="0"
        )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.problem, type="expectation")
            failure.text = "\n".join(
                f"Turn {n}: caller: {t.said} | {t.decision_words}"
                for n, t in enumerate(result.turns, start=1)
            )
    for scenario in skipped:
        case = ET.SubElement(suite, "testcase", classname=scenario.step_key, name=scenario.name)
        ET.SubElement(case, "skipped", message=f"The step is not in the {label}.")
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    ET.indent(tree)
    try:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.", returncode=BAD_INPUT) from exc
