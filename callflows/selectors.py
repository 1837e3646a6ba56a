"""Reads for the call flow pages. Every lookup starts from the request's workspace.

Also the layout of the call flow diagram: a pure function of the steps, drawn by
templates/callflows/_diagram.html as inline SVG.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.text import Truncator

from jobs import selectors as job_selectors
from jobs.models import Job
from workspaces.models import User, Workspace
from workspaces.phones import normalize_phone

from .models import (
    MAX_JOBS_PER_STEP,
    CallFlow,
    CallFlowVersion,
    PhoneNumber,
    Step,
    StepJob,
    StepKind,
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
    if not str(pk or "").isdigit():
        return None
    return get_object_or_404(Job.objects.filter(workspace=workspace), pk=int(pk))


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


# The diagram -------------------------------------------------------------------------------

BOX_W, BOX_H, GAP = 260, 64, 40
MARGIN = 16
PILL_W, PILL_H = 130, 28
TOP = MARGIN + PILL_H + GAP  # y of the first box
LANE = 16  # distance between the vertical lines of branch arrows
OPEN_OFFSET, CLOSED_OFFSET = 44, 60  # first lane's distance from the boxes (room for labels)
EXIT_DY, ENTRY_DY = 22, 44  # where branch arrows leave and enter a box


@dataclass
class Box:
    step: Step
    number: int
    x: int
    y: int
    detail: str
    open_name: str = ""
    closed_name: str = ""

    @property
    def text_x(self):
        return self.x + 12

    @property
    def kind_y(self):
        return self.y + 18

    @property
    def name_y(self):
        return self.y + 38

    @property
    def detail_y(self):
        return self.y + 56


@dataclass
class Arrow:
    d: str
    kind: str = "next"  # next, open or closed
    label: str = ""
    label_x: int = 0
    label_y: int = 0
    anchor: str = "start"


@dataclass
class Diagram:
    width: int
    height: int
    box_w: int = BOX_W
    box_h: int = BOX_H
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    pill_x: int = 0
    pill_y: int = MARGIN
    pill_w: int = PILL_W
    pill_h: int = PILL_H

    @property
    def pill_text_x(self):
        return self.pill_x + self.pill_w // 2

    @property
    def pill_text_y(self):
        return self.pill_y + 19


def _short(text, limit=34) -> str:
    return Truncator(" ".join(str(text or "").split())).chars(limit)


def _detail(step: Step) -> str:
    s = step.settings or {}
    if step.kind == StepKind.SONA:
        return f"{getattr(step, 'job_count', 0)} / {MAX_JOBS_PER_STEP} jobs"
    if step.kind == StepKind.FORWARD:
        return f"to {s['number']}" if s.get("number") else "no number set"
    if step.kind == StepKind.RING_USERS:
        count = len(s.get("members", []))
        return f"{count} member{'s' if count != 1 else ''}, {s.get('timeout', 20)} s"
    if step.kind == StepKind.GREETING:
        return _short(s.get("message"))
    if step.kind == StepKind.VOICEMAIL:
        return _short(s.get("prompt"))
    return _short(s.get("timezone"))


def flow_diagram(steps: list[Step]) -> Diagram:
    """Boxes in order with arrows between them; business hours steps also get an "open"
    arrow on the right and a "closed" arrow on the left to their target steps."""
    by_key = {step.key: (index, step) for index, step in enumerate(steps)}
    branches = []  # (side, from index, to index)
    for index, step in enumerate(steps):
        if step.kind != StepKind.BUSINESS_HOURS:
            continue
        for side, setting in (("open", "open_step"), ("closed", "closed_step")):
            target = by_key.get((step.settings or {}).get(setting) or "")
            if target is not None and target[0] != index:
                branches.append((side, index, target[0]))
    lanes_left = sum(1 for side, *_ in branches if side == "closed")
    lanes_right = len(branches) - lanes_left
    box_x = MARGIN + (CLOSED_OFFSET + LANE * (lanes_left - 1) if lanes_left else 0)
    right = box_x + BOX_W
    width = right + (OPEN_OFFSET + LANE * (lanes_right - 1) if lanes_right else 0) + MARGIN
    height = TOP + len(steps) * (BOX_H + GAP) - GAP + MARGIN if steps else TOP + MARGIN
    center = box_x + BOX_W // 2
    diagram = Diagram(width=width, height=height, pill_x=center - PILL_W // 2)

    def y_of(index):
        return TOP + index * (BOX_H + GAP)

    for index, step in enumerate(steps):
        box = Box(step=step, number=index + 1, x=box_x, y=y_of(index), detail=_detail(step))
        if step.kind == StepKind.BUSINESS_HOURS:
            for attr, setting in (("open_name", "open_step"), ("closed_name", "closed_step")):
                target = by_key.get((step.settings or {}).get(setting) or "")
                setattr(box, attr, target[1].name if target else "")
            if not (box.open_name and box.closed_name):
                missing = [
                    s for s, n in (("open", box.open_name), ("closed", box.closed_name)) if not n
                ]
                box.detail = " and ".join(missing) + " step not set"
        diagram.boxes.append(box)

    if steps:
        diagram.arrows.append(Arrow(d=f"M {center} {MARGIN + PILL_H} V {TOP}"))
    for index in range(len(steps) - 1):
        diagram.arrows.append(Arrow(d=f"M {center} {y_of(index) + BOX_H} V {y_of(index + 1)}"))

    lane = {"open": 0, "closed": 0}
    for side, source, target in branches:
        exit_y, entry_y = y_of(source) + EXIT_DY, y_of(target) + ENTRY_DY
        if side == "open":
            x = right + OPEN_OFFSET + LANE * lane[side]
            edge, label_x, anchor = right, right + 4, "start"
        else:
            x = box_x - CLOSED_OFFSET - LANE * lane[side]
            edge, label_x, anchor = box_x, box_x - 4, "end"
        lane[side] += 1
        diagram.arrows.append(
            Arrow(
                d=f"M {edge} {exit_y} H {x} V {entry_y} H {edge}",
                kind=side,
                label=side,
                label_x=label_x,
                label_y=exit_y - 5,
                anchor=anchor,
            )
        )
    return diagram
