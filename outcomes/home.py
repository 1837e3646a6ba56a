"""What the home page shows (outcomes.views.home): the getting-started checklist, computed from
the workspace's own data, and how Sona is doing. A fixed number of cheap queries whatever the
workspace's size: the checklist is one query of EXISTS subqueries, the figures read the daily
rollups (outcomes.selectors), never the calls.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse

from callflows.models import CallFlowVersion, PhoneNumber, Step, StepJob, StepKind
from calls.models import Call, Scenario, Source
from jobs.models import Job
from workspaces.models import Workspace

from . import selectors

WEEK_DAYS = 7  # "this week": the last seven days up to today, in the workspace's zone
FAILING_MAX = 5  # the home page names this many failing scenarios; the Tests tabs have all


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    url: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    items: list[ChecklistItem]

    @property
    def done(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def next(self) -> ChecklistItem | None:
        return next((item for item in self.items if not item.done), None)


def _mine(model_path: str = "") -> dict:
    """The filter that keeps a model's rows of the workspace being annotated (OuterRef)."""
    return {f"{model_path}workspace": OuterRef("pk")}


def checklist(workspace: Workspace) -> Checklist:
    """The six steps to a first publish, each ticked from the workspace's data: one query (an
    EXISTS per item, plus the first number and its Sona step for the links)."""
    live_number = "call_flow__phone_number__"
    numbers = PhoneNumber.objects.live().filter(**_mine())
    first_number = numbers.order_by("pk").values("pk")[:1]
    row = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(
            has_job=Exists(Job.objects.filter(**_mine(), deleted_at__isnull=True)),
            has_number=Exists(numbers),
            has_attached=Exists(
                StepJob.objects.filter(
                    step__call_flow__phone_number__workspace=OuterRef("pk"),
                    step__call_flow__phone_number__deleted_at__isnull=True,
                )
            ),
            has_mock=Exists(Call.objects.filter(**_mine(), source=Source.MOCK)),
            has_scenario=Exists(
                Scenario.objects.filter(**_mine(live_number), **{f"{live_number}deleted_at": None})
            ),
            has_publish=Exists(
                CallFlowVersion.objects.filter(
                    **_mine(live_number), **{f"{live_number}deleted_at": None}
                )
            ),
            number_id=Subquery(first_number),
        )
        # A second annotate: its OuterRef is the number found above. (Nested inside the step's
        # subquery, first_number's own OuterRef would point at the step, not the workspace.)
        .annotate(
            sona_id=Subquery(
                Step.objects.filter(
                    call_flow__phone_number_id=OuterRef("number_id"), kind=StepKind.SONA
                )
                .order_by("position", "pk")
                .values("pk")[:1]
            ),
        )
        .values(
            "has_job",
            "has_number",
            "has_attached",
            "has_mock",
            "has_scenario",
            "has_publish",
            "number_id",
            "sona_id",
        )
        .get()
    )
    numbers_url = reverse("callflows:list")
    number, sona = row["number_id"], row["sona_id"]
    editor = reverse("callflows:editor", args=[number]) if number else numbers_url

    def step_url(name: str) -> str:
        return reverse(name, args=[number, sona]) if number and sona else editor

    items = [
        ("job", "Create a job from a template", reverse("jobs:new"), row["has_job"]),
        ("number", "Add a phone number", numbers_url, row["has_number"]),
        ("attach", "Attach the job to Sona", step_url("callflows:step_jobs"), row["has_attached"]),
        ("mock", "Run a mock call", step_url("calls:test_sona"), row["has_mock"]),
        ("scenario", "Save a scenario", step_url("calls:tests"), row["has_scenario"]),
        (
            "publish",
            "Publish the call flow",
            reverse("callflows:publish", args=[number]) if number else numbers_url,
            row["has_publish"],
        ),
    ]
    return Checklist([ChecklistItem(*item) for item in items])


@dataclass(frozen=True)
class FailingScenario:
    name: str
    problem: str
    url: str


@dataclass(frozen=True)
class Health:
    """How Sona is doing: real calls this week by outcome, the latest change's verdict, the
    scenarios that failed on the draft at their last run (and how many)."""

    week: selectors.Figures
    comparison: selectors.Comparison | None
    comparison_subject: str  # "Main line" or the job's name
    comparison_url: str
    failing: list[FailingScenario]
    failing_count: int


def _latest_change(workspace: Workspace):
    """The newest change, a publish or a job edit, with its comparison: 2 queries to find it,
    2 to compare (outcomes.selectors)."""
    version = (
        CallFlowVersion.objects.filter(
            call_flow__phone_number__workspace=workspace,
            call_flow__phone_number__deleted_at__isnull=True,
            number__gte=2,
        )
        .select_related("call_flow__phone_number")
        .order_by("-published_at", "-pk")
        .first()
    )
    edit = (
        Job.history.filter(workspace_id=workspace.pk, history_type="~", deleted_at__isnull=True)
        .order_by("-history_date", "-history_id")
        .only("id", "name", "history_date")
        .first()
    )
    if edit is not None and (version is None or edit.history_date > version.published_at):
        job = Job.objects.filter(pk=edit.id, workspace=workspace).first()
        if job is not None:
            comparison = selectors.job_comparison(workspace=workspace, job=job)
            return comparison, job.name, reverse("jobs:detail", args=[job.pk])
    if version is not None:
        phone = version.call_flow.phone_number
        comparison = selectors.callflow_comparison(workspace=workspace, phone_number=phone)
        return (
            comparison,
            str(phone.display_name or phone.number),
            reverse("callflows:editor", args=[phone.pk]),
        )
    return None, "", ""


def health(workspace: Workspace) -> Health:
    start, end = selectors.default_range(workspace, days=WEEK_DAYS)
    week = selectors.outcome_figures(workspace=workspace, start=start, end=end)
    comparison, subject, url = _latest_change(workspace)
    failing_rows = Scenario.objects.filter(
        call_flow__phone_number__workspace=workspace,
        call_flow__phone_number__deleted_at__isnull=True,
        last_run__draft__passed=False,
    )
    failing_count = failing_rows.count()
    failing = []
    if failing_count:
        rows = list(
            failing_rows.annotate(
                step_id=Subquery(
                    Step.objects.filter(
                        call_flow_id=OuterRef("call_flow_id"), key=OuterRef("step_key")
                    ).values("pk")[:1]
                )
            )
            .select_related("call_flow")
            .order_by("-last_run_at", "-pk")[:FAILING_MAX]
        )
        for scenario in rows:
            number = scenario.call_flow.phone_number_id
            url = (
                reverse("calls:tests", args=[number, scenario.step_id])
                if scenario.step_id
                else reverse("callflows:editor", args=[number])
            )
            problem = (scenario.last_run.get("draft") or {}).get("problem", "")
            failing.append(FailingScenario(scenario.name, str(problem or ""), url))
    return Health(
        week=week,
        comparison=comparison,
        comparison_subject=subject,
        comparison_url=url,
        failing=failing,
        failing_count=failing_count,
    )
