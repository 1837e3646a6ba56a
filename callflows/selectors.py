"""Reads for the call flow pages. Every lookup starts from the request's workspace."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from core.forms import parse_id
from core.phones import format_phone, normalize_phone
from jobs import selectors as job_selectors
from jobs.models import Job
from knowledge.models import KnowledgePage
from workspaces.models import User, Workspace

from .checks import PUBLISH_BLOCKED, draft_problems, errors_of
from .models import (
    CallFlow,
    CallFlowVersion,
    PhoneNumber,
    PublishedJob,
    PublishedKnowledge,
    Step,
    StepJob,
    StepKind,
    StepKnowledge,
)
from .snapshots import build_snapshot, draft_matches_live, snapshot_changes

# Phone numbers and steps ------------------------------------------------------------------


def phone_number_list(*, workspace: Workspace) -> QuerySet[PhoneNumber]:
    """The workspace's numbers with their live version number (snapshots are not loaded)."""
    return (
        PhoneNumber.objects.live()
        .filter(workspace=workspace)
        .select_related("call_flow__live_version")
        .defer("call_flow__live_version__snapshot")
        .order_by("display_name", "number", "pk")
    )


def phone_number_get(*, workspace: Workspace, pk: int) -> PhoneNumber:
    """One number of the workspace with its call flow and live version, or 404 (a number in
    Recently deleted too: its pages, steps and versions are out of reach until restored)."""
    numbers = (
        PhoneNumber.objects.live()
        .filter(workspace=workspace)
        .select_related("call_flow__live_version")
    )
    return get_object_or_404(numbers, pk=pk)


def phone_number_deleted_list(*, workspace: Workspace) -> QuerySet[PhoneNumber]:
    """The workspace's numbers in Recently deleted, last deleted first."""
    return (
        PhoneNumber.objects.deleted()
        .filter(workspace=workspace)
        .select_related("deleted_by")
        .order_by("-deleted_at", "-pk")
    )


def phone_number_get_deleted(*, workspace: Workspace, pk: int) -> PhoneNumber:
    """One number of the workspace in Recently deleted, or 404."""
    numbers = PhoneNumber.objects.deleted().filter(workspace=workspace).select_related("call_flow")
    return get_object_or_404(numbers, pk=pk)


@dataclass(frozen=True)
class Kept:
    """What a deleted number keeps in Recently deleted (and a restore brings back)."""

    versions: int
    scenarios: int
    live_version: int | None


def phone_number_kept(*, phone: PhoneNumber) -> Kept:
    """Its published versions and scenarios, counted in one query."""
    flow = phone.call_flow
    counts = CallFlow.objects.filter(pk=flow.pk).aggregate(
        versions=Count("versions", distinct=True), scenarios=Count("scenarios", distinct=True)
    )
    live = flow.live_version.number if flow.live_version_id else None
    return Kept(counts["versions"], counts["scenarios"], live)


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
        PhoneNumber.objects.live()
        .select_related("call_flow", "workspace")
        .filter(query)
        .order_by("pk")
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
    """The draft's steps in order, each with `job_count` and its attached jobs and knowledge
    pages in order (`step_jobs`, `step_knowledge`, for the diagram's Sona boxes): three queries."""
    return list(
        Step.objects.filter(call_flow=call_flow)
        .annotate(job_count=Count("step_jobs"))
        .prefetch_related(
            Prefetch(
                "step_jobs",
                queryset=StepJob.objects.select_related("job")
                .only("step_id", "position", "job__name")
                .order_by("position"),
            ),
            Prefetch(
                "step_knowledge",
                queryset=StepKnowledge.objects.select_related("page")
                .only("step_id", "position", "page__title")
                .order_by("position"),
            ),
        )
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
    draft: dict | None = None  # the draft's snapshot, so the checks need not build it again

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
    draft = build_snapshot(call_flow)
    return DraftStatus(
        live_number=live.number if live else None,
        changes=snapshot_changes(live.snapshot if live else None, draft),
        draft=draft,
    )


CHANGE_LABELS = {"name": "name", "kind": "kind", "settings": "settings"}


def describe_changes(*, workspace: Workspace, changes: list[dict]) -> list[dict]:
    """The changes with job and page names instead of ids: one query for each kind."""
    job_ids = {job_id for change in changes for job_id in change.get("jobs", [])}
    jobs = Job.objects.filter(workspace=workspace).only("name").in_bulk(job_ids) if job_ids else {}
    page_ids = {page_id for change in changes for page_id in change.get("pages", [])}
    pages = (
        KnowledgePage.objects.filter(workspace=workspace).only("title").in_bulk(page_ids)
        if page_ids
        else {}
    )
    return [
        {
            **change,
            "page_names": [
                pages[p].title if p in pages else f"a page that no longer exists (#{p})"
                for p in change.get("pages", [])
            ],
            "job_names": [
                jobs[job_id].name if job_id in jobs else f"a job that no longer exists (#{job_id})"
                for job_id in change.get("jobs", [])
            ],
            "fields": [CHANGE_LABELS.get(f, f) for f in change.get("detail", [])],
        }
        for change in changes
    ]


# Confirming a rollback ----------------------------------------------------------------------

# How a setting is named in a sentence ("the greeting changes on “Sona”").
SETTING_LABELS = {
    "greeting": "the greeting",
    "use_history": "the use of the caller's history",
    "knowledge": "the knowledge",
    "message": "the message",
    "prompt": "the voicemail prompt",
    "number": "the forward number",
    "members": "the members rung",
    "timeout": "the ring timeout",
    "timezone": "the time zone",
    "hours": "the opening hours",
    "open_step": "the step when open",
    "closed_step": "the step when closed",
}


def _quoted(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _clause(change: dict) -> str:
    """One change as words, e.g. “Sona” loses “Take a message”."""
    step, jobs, kind = f"“{change['step']}”", change["job_names"], change["kind"]
    if kind == "added":
        return f"step {step} is added" + (f" with {_quoted(jobs)}" if jobs else "")
    if kind == "removed":
        return f"step {step} is removed"
    if kind == "attached":
        return f"{step} gains {_quoted(jobs)}"
    if kind == "detached":
        return f"{step} loses {_quoted(jobs)}"
    if kind == "reordered":
        return f"the jobs of {step} change order"
    if kind == "knowledge_attached":
        return f"{step} gains the knowledge {_quoted(change['page_names'])}"
    if kind == "knowledge_detached":
        return f"{step} loses the knowledge {_quoted(change['page_names'])}"
    if kind == "knowledge_reordered":
        return f"the knowledge of {step} changes order"
    if kind == "moved":
        return "the steps change order"
    parts = []
    if "name" in change["detail"]:
        parts.append(f"step “{change['was']}” is renamed {step}")
    if "kind" in change["detail"]:
        parts.append(f"step {step} becomes another kind of step")
    elif change.get("settings"):
        labels = [
            SETTING_LABELS.get(key, "the " + key.replace("_", " ")) for key in change["settings"]
        ]
        things = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        verb = "changes" if len(labels) == 1 else "change"
        parts.append(f"{things} {verb} on {step}")
    return "; ".join(parts) or f"step {step} changes"


@dataclass
class RollbackPreview:
    version: CallFlowVersion
    live_number: int | None
    summary: str  # "Version 3 will become live on Main line (+1 555-555-0100): …"
    draft: str  # what happens to the draft
    refusal: str = ""  # why it cannot be done (already live); empty when it can


def rollback_preview(*, call_flow: CallFlow, version: CallFlowVersion) -> RollbackPreview:
    """What publishing `version` again would change on the live line, in one sentence, and what
    happens to the draft (the rule is callflow_rollback's: snapshots.draft_matches_live), or
    why it cannot be done (already live; errors from callflows.checks). Queries: the live
    snapshot, the checks' jobs (one), the draft (two) and the job names (one)."""
    phone = call_flow.phone_number
    live = call_flow.live_version if call_flow.live_version_id else None
    where = f"{phone.display_name} ({format_phone(phone.number)})"
    if live is not None and live.pk == version.pk:
        refusal = f"Version {version.number} is already live."
        return RollbackPreview(version, live.number, "", "", refusal=refusal)
    errors = errors_of(draft_problems(call_flow, version.snapshot))  # callflow_rollback's rule
    if errors:
        refusal = " ".join([PUBLISH_BLOCKED] + [p.message for p in errors])
        return RollbackPreview(version, live.number if live else None, "", "", refusal=refusal)
    changes = describe_changes(
        workspace=phone.workspace_id,
        changes=snapshot_changes(live.snapshot if live else None, version.snapshot),
    )
    summary = f"Version {version.number} will become live on {where}"
    if changes:
        clauses = [_clause(change) for change in changes]
        summary += ": " + "; ".join(clauses) + "."
    else:
        summary += ": callers notice no change, it is the same as the live version."
    if draft_matches_live(call_flow):
        draft = (
            f"Your draft has no unpublished changes, so it will follow version {version.number}."
        )
    else:
        draft = (
            "Your draft has unpublished changes: it is kept as it is, and will differ from the "
            "live version."
        )
    return RollbackPreview(version, live.number if live else None, summary, draft)


# Knowledge of a Sona step -------------------------------------------------------------------


def step_attached_knowledge(*, step: Step) -> list[StepKnowledge]:
    """The step's knowledge pages in order: one query, bodies not loaded."""
    return list(
        StepKnowledge.objects.filter(step=step)
        .select_related("page")
        .defer("page__body")
        .order_by("position")
    )


def knowledge_page_get(*, workspace: Workspace, pk) -> KnowledgePage | None:
    """A posted page id: None when it is not a number, 404 when it is another workspace's."""
    pk = parse_id(pk)
    if pk is None:
        return None
    return get_object_or_404(KnowledgePage.objects.filter(workspace=workspace), pk=pk)


# Where a job or a knowledge page is used ----------------------------------------------------


@dataclass
class Use:
    """One Sona step of one number that uses a job or page, in the draft or the live version."""

    phone: PhoneNumber
    step_name: str
    step_id: int | None  # the draft step with the same key, for the panel link; None if gone


@dataclass
class Usage:
    live: list[Use]
    draft: list[Use]

    @property
    def live_phones(self) -> list[PhoneNumber]:
        """The numbers whose live version uses it, each once, in order."""
        return list({use.phone.pk: use.phone for use in self.live}.values())

    def __bool__(self) -> bool:
        return bool(self.live or self.draft)


def _usage(*, workspace: Workspace, draft_links, live_links) -> Usage:
    """Two queries whatever the counts: the draft attachments with their steps and numbers, and
    the live versions' rows with their snapshots (for the live step names) and draft step ids.
    Numbers in Recently deleted use nothing (restoring one refuses while its live version uses
    a deleted job or page)."""
    draft = [
        Use(phone=link.step.call_flow.phone_number, step_name=link.step.name, step_id=link.step_id)
        for link in draft_links.filter(
            step__call_flow__phone_number__workspace=workspace,
            step__call_flow__phone_number__deleted_at__isnull=True,
        )
        .select_related("step__call_flow__phone_number")
        .order_by(
            "step__call_flow__phone_number__display_name",
            "step__call_flow__phone_number__number",
            "step__position",
            "step__pk",
        )
    ]
    draft_step = Step.objects.filter(
        call_flow=OuterRef("version__call_flow"), key=OuterRef("step_key")
    ).values("pk")[:1]
    live = []
    rows = (
        live_links.filter(
            version__call_flow__phone_number__workspace=workspace,
            version__call_flow__phone_number__deleted_at__isnull=True,
            version__call_flow__live_version=F("version"),
        )
        .select_related("version__call_flow__phone_number")
        .annotate(draft_step_id=Subquery(draft_step))
        .order_by(
            "version__call_flow__phone_number__display_name",
            "version__call_flow__phone_number__number",
            "pk",
        )
    )
    for row in rows:
        steps = (
            row.version.snapshot.get("steps", []) if isinstance(row.version.snapshot, dict) else []
        )
        name = next((s.get("name", "") for s in steps if s.get("key") == row.step_key), "")
        live.append(
            Use(
                phone=row.version.call_flow.phone_number,
                step_name=name or "a Sona step",
                step_id=row.draft_step_id,
            )
        )
    return Usage(live=live, draft=draft)


def job_usage(*, workspace: Workspace, job: Job) -> Usage:
    """The Sona steps and numbers that use the job, live and in the draft: two queries."""
    return _usage(
        workspace=workspace,
        draft_links=StepJob.objects.filter(job=job),
        live_links=PublishedJob.objects.filter(job=job),
    )


def page_usage(*, workspace: Workspace, page: KnowledgePage) -> Usage:
    """The Sona steps and numbers that use the knowledge page, live and in the draft."""
    return _usage(
        workspace=workspace,
        draft_links=StepKnowledge.objects.filter(page=page),
        live_links=PublishedKnowledge.objects.filter(page=page),
    )


# Opening and comparing versions -------------------------------------------------------------


def version_steps(*, workspace: Workspace, snapshot: dict) -> list[dict]:
    """A snapshot's steps in order, for people: {"name", "kind", "settings", "job_names",
    "page_names"}; names in two queries (jobs, pages) whatever the number of steps. A job or
    page deleted since is named as such (their ids are frozen, their texts are not)."""
    steps = [s for s in snapshot.get("steps", []) if isinstance(s, dict)]
    job_ids = {j for s in steps for j in s.get("jobs", [])}
    page_ids = {p for s in steps for p in s.get("knowledge", []) if isinstance(p, int)}
    jobs = (
        Job.objects.filter(workspace=workspace).only("name", "deleted_at").in_bulk(job_ids)
        if job_ids
        else {}
    )
    pages = (
        KnowledgePage.objects.filter(workspace=workspace).only("title").in_bulk(page_ids)
        if page_ids
        else {}
    )
    kinds = dict(StepKind.choices)
    return [
        {
            "name": s.get("name", ""),
            "kind": kinds.get(s.get("kind"), s.get("kind", "")),
            "is_sona": s.get("kind") == StepKind.SONA,
            "settings": _setting_rows(s.get("settings")),
            "jobs": [
                jobs.get(j) or {"name": f"a job that no longer exists (#{j})"}
                for j in s.get("jobs", [])
            ],
            "pages": [
                pages.get(p) or {"title": f"a page that no longer exists (#{p})"}
                for p in s.get("knowledge", [])
                if isinstance(p, int)
            ],
        }
        for s in steps
    ]


def version_previous(*, version: CallFlowVersion) -> CallFlowVersion | None:
    """The version published just before this one (number N-1), without its snapshot."""
    return (
        CallFlowVersion.objects.filter(call_flow_id=version.call_flow_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def _setting_rows(settings) -> list[tuple[str, object]]:
    """A step's settings as (label, value) rows: "Greeting", not "greeting"."""
    if not isinstance(settings, dict):
        return []
    rows = []
    for key, value in settings.items():
        if key == "knowledge" or value in ("", None, [], {}):
            continue  # the legacy knowledge key is always []; empty values say nothing
        label = SETTING_LABELS.get(key, key.replace("_", " ")).removeprefix("the ")
        rows.append((label[:1].upper() + label[1:], value))
    return rows
