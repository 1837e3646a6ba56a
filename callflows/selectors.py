"""Reads for the call flow pages. Every lookup starts from the request's workspace."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from jobs import selectors as job_selectors
from jobs.models import Job
from workspaces.forms import parse_id
from workspaces.models import User, Workspace
from workspaces.phones import normalize_phone

from .models import (
    CallFlow,
    CallFlowVersion,
    PhoneNumber,
    Step,
    StepJob,
)
from .snapshots import callflow_draft_changes

# Phone numbers and steps ------------------------------------------------------------------


def phone_number_list(*, workspace: Workspace) -> QuerySet[PhoneNumber]:
    """The workspace's numbers with their live version number (snapshots are not loaded)."""
    return (
        PhoneNumber.objects.filter(workspace=workspace)
        .select_related("call_flow__live_version")
        .defer("call_flow__live_version__snapshot")
        .order_by("display_name", "number", "pk")
    )


def phone_number_get(*, workspace: Workspace, pk: int) -> PhoneNumber:
    """One number of the workspace with its call flow and live version, or 404."""
    numbers = PhoneNumber.objects.filter(workspace=workspace).select_related(
        "call_flow__live_version"
    )
    return get_object_or_404(numbers, pk=pk)


def phone_number_find(*, raw: str) -> list[PhoneNumber]:
    """The numbers `raw` names in any workspace, each read in its own workspace's country.

    For commands, which know no workspace yet: "+1 555 …" names the same number everywhere,
    "020 7946 0958" a number of a GB workspace. Raises normalize_phone's ValidationError when
    `raw` is a phone number in no country a workspace uses.
    """
    regions = Workspace.objects.order_by("country").values_list("country", flat=True).distinct()
    by_number: dict[str, list[str]] = {}
    error = None
    for region in regions:
        try:
            by_number.setdefault(normalize_phone(raw, region=region), []).append(region)
        except ValidationError as exc:
            error = error or exc
    if not by_number:
        raise error or ValidationError("No workspace has phone numbers yet.")
    query = Q()
    for number, in_regions in by_number.items():
        query |= Q(number=number, workspace__country__in=in_regions)
    return list(
        PhoneNumber.objects.select_related("call_flow", "workspace").filter(query).order_by("pk")
    )


def step_get(*, call_flow: CallFlow, step_id: int, kind: str | None = None) -> Step:
    """A step of this call flow (a step of another flow is a 404)."""
    steps = Step.objects.filter(call_flow=call_flow)
    if kind is not None:
        steps = steps.filter(kind=kind)
    step = get_object_or_404(steps, pk=step_id)
    step.call_flow = call_flow
    return step


def flow_steps(*, call_flow: CallFlow) -> list[Step]:
    """The draft's steps in order, each with `job_count`: one query."""
    return list(
        Step.objects.filter(call_flow=call_flow)
        .annotate(job_count=Count("step_jobs"))
        .order_by("position", "pk")
    )


def other_steps(*, step: Step) -> QuerySet[Step]:
    """The flow's other steps, for the business hours branches."""
    return (
        Step.objects.filter(call_flow_id=step.call_flow_id)
        .exclude(pk=step.pk)
        .order_by("position", "pk")
    )


def workspace_users(*, workspace: Workspace) -> QuerySet[User]:
    return User.objects.filter(memberships__workspace=workspace).order_by("email")


# Jobs of a Sona step ------------------------------------------------------------------------


def step_attached_jobs(*, step: Step) -> list[StepJob]:
    """The step's attachments in order, with their jobs: one query."""
    return list(
        StepJob.objects.filter(step=step)
        .select_related("job")
        .defer("job__instructions")
        .order_by("position")
    )


def job_library(*, workspace: Workspace, query: str = "") -> QuerySet[Job]:
    return job_selectors.job_list(workspace=workspace, query=query)


def job_get(*, workspace: Workspace, pk) -> Job | None:
    """A posted job id: None when it is not a number, 404 when it is another workspace's."""
    pk = parse_id(pk)
    if pk is None:
        return None
    return get_object_or_404(Job.objects.filter(workspace=workspace), pk=pk)


# Versions and changes -----------------------------------------------------------------------


def version_list(*, call_flow: CallFlow) -> QuerySet[CallFlowVersion]:
    return (
        CallFlowVersion.objects.filter(call_flow=call_flow)
        .select_related("published_by")
        .defer("snapshot")
        .order_by("-number")
    )


def version_get(*, call_flow: CallFlow, version_id: int) -> CallFlowVersion:
    return get_object_or_404(CallFlowVersion.objects.filter(call_flow=call_flow), pk=version_id)


@dataclass
class DraftStatus:
    live_number: int | None
    changes: list[dict]

    @property
    def published(self) -> bool:
        return self.live_number is not None

    @property
    def differs(self) -> bool:
        return not self.published or bool(self.changes)


def draft_status(*, call_flow: CallFlow, reload: bool = False) -> DraftStatus:
    """Whether the draft differs from the live version, and how. Three queries at most."""
    if reload:  # after a publish or rollback, the caller's copy has an old live version
        call_flow = CallFlow.objects.select_related("live_version").get(pk=call_flow.pk)
    live = call_flow.live_version if call_flow.live_version_id else None
    return DraftStatus(
        live_number=live.number if live else None,
        changes=callflow_draft_changes(call_flow),
    )


CHANGE_LABELS = {"name": "name", "kind": "kind", "settings": "settings"}


def describe_changes(*, workspace: Workspace, changes: list[dict]) -> list[dict]:
    """The changes with job names instead of ids: one query for all the jobs."""
    job_ids = {job_id for change in changes for job_id in change.get("jobs", [])}
    jobs = Job.objects.filter(workspace=workspace).only("name").in_bulk(job_ids) if job_ids else {}
    return [
        {
            **change,
            "job_names": [
                jobs[job_id].name if job_id in jobs else f"a job that no longer exists (#{job_id})"
                for job_id in change.get("jobs", [])
            ],
            "fields": [CHANGE_LABELS.get(f, f) for f in change.get("detail", [])],
        }
        for change in changes
    ]
