"""Jobs and knowledge pages on a Sona step: attach, create and attach, detach, reorder. The
10-jobs and 20-pages rules live here (and in the database)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from jobs.models import Job
from jobs.services import job_create
from knowledge.models import KnowledgePage
from workspaces import audit
from workspaces.models import User
from workspaces.permissions import EDIT, require_role

from ..models import (
    MAX_JOBS_PER_STEP,
    MAX_KNOWLEDGE_PER_STEP,
    Step,
    StepJob,
    StepKind,
    StepKnowledge,
)
from .steps import EDIT_FLOWS, _audit_step, _touch

TOO_MANY_JOBS = f"A Sona step can have at most {MAX_JOBS_PER_STEP} jobs"
NOT_SONA = "Jobs can only be attached to a Sona step."
TOO_MUCH_KNOWLEDGE = f"A Sona step can have at most {MAX_KNOWLEDGE_PER_STEP} knowledge pages"
KNOWLEDGE_NOT_SONA = "Knowledge can only be attached to a Sona step."


# Attaching jobs: the 10-jobs rule lives here (and in the database) -------------------------


@dataclass(frozen=True)
class AttachCheck:
    """Whether a job may be attached to a step now, and if not, why (for the page to show)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _full(attached_count: int) -> bool:
    """The one place the 10-jobs rule is decided (the database holds it too)."""
    return attached_count >= MAX_JOBS_PER_STEP


def step_can_attach(step: Step, *, attached_count: int | None = None) -> AttachCheck:
    """Whether the page should offer "Attach" / "New job" on this step. A hint only: the
    write (step_attach_job) asks the same rule again under the row lock.

    Pass `attached_count` when the caller already loaded the attachments (saves a query).
    """
    if step.kind != StepKind.SONA:
        return AttachCheck(False, NOT_SONA)
    if attached_count is None:
        attached_count = StepJob.objects.filter(step=step).count()
    if _full(attached_count):
        return AttachCheck(False, f"{TOO_MANY_JOBS}. Detach one to attach another.")
    return AttachCheck(True)


def _lock_sona_step(step: Step, not_sona: str = NOT_SONA) -> Step:
    locked = (
        Step.objects.select_for_update().select_related("call_flow__phone_number").get(pk=step.pk)
    )
    if locked.kind != StepKind.SONA:
        raise ValidationError(not_sona)
    return locked


@audit.write_service
def step_attach_job(*, step: Step, job: Job, user: User) -> StepJob:
    """Attach a job at the end of a Sona step's list: at most 10, each at most once."""
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step)
    if job.workspace_id != step.call_flow.phone_number.workspace_id:
        raise ValidationError("That job belongs to another workspace.")
    if job.deleted_at is not None:
        raise ValidationError("That job was deleted. Restore it before attaching it.")
    attached = list(StepJob.objects.filter(step=step).values_list("job_id", "position"))
    if any(job_id == job.pk for job_id, _ in attached):
        raise ValidationError(f"“{job.name}” is already attached to this step.")
    if _full(len(attached)):
        raise ValidationError(f"{TOO_MANY_JOBS}. Detach one before attaching “{job.name}”.")
    position = max((p for _, p in attached), default=0) + 1
    try:
        with transaction.atomic():
            link = StepJob.objects.create(step=step, job=job, position=position)
    except IntegrityError as exc:  # only reachable without the row lock (e.g. raw SQL races)
        raise ValidationError(f"{TOO_MANY_JOBS}.") from exc
    _touch(step.call_flow, user)
    _audit_step_job(user, step, job, "step.job_attached", position=position)
    return link


def _audit_step_job(user: User, step: Step, job: Job, action: str, **details) -> None:
    """Attachment events are about the step; the job is named in the details."""
    _audit_step(user, step.call_flow, step, action, job=job.pk, job_name=job.name, **details)


@dataclass(frozen=True)
class CreatedJob:
    job: Job  # always saved in the library
    attach_error: ValidationError | None  # why it could not be attached, or None


@audit.write_service
def step_create_job(*, step: Step, user: User, data, template=None) -> CreatedJob:
    """Create a job in the library and attach it to the step, in one transaction.

    If attaching is refused (a teammate filled the step meanwhile), the job stays in the
    library so no text is lost, and the refusal is returned for the page to show.
    """
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    workspace = step.call_flow.phone_number.workspace
    job = job_create(workspace=workspace, user=user, data=data, template=template)
    try:
        with transaction.atomic():
            step_attach_job(step=step, job=job, user=user)
    except ValidationError as exc:
        return CreatedJob(job, exc)
    return CreatedJob(job, None)


def _renumber(step: Step, job_ids: list[int]) -> None:
    # Delete and re-create: positions stay unique and within 1..10 at every moment.
    StepJob.objects.filter(step=step).delete()
    StepJob.objects.bulk_create(
        StepJob(step=step, job_id=job_id, position=i) for i, job_id in enumerate(job_ids, start=1)
    )


@audit.write_service
def step_detach_job(*, step: Step, job: Job, user: User) -> None:
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step)
    job_ids = list(StepJob.objects.filter(step=step).values_list("job_id", flat=True))
    if job.pk not in job_ids:
        raise ValidationError(f"“{job.name}” is not attached to this step.")
    job_ids.remove(job.pk)
    _renumber(step, job_ids)
    _touch(step.call_flow, user)
    _audit_step_job(user, step, job, "step.job_detached")


@audit.write_service
def step_move_job(*, step: Step, job: Job, offset: int, user: User) -> None:
    """Move an attached job up (-1) or down (+1) in the step's order."""
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step)
    job_ids = list(StepJob.objects.filter(step=step).values_list("job_id", flat=True))
    if job.pk not in job_ids:
        raise ValidationError(f"“{job.name}” is not attached to this step.")
    index = job_ids.index(job.pk)
    target = min(max(index + offset, 0), len(job_ids) - 1)
    job_ids.insert(target, job_ids.pop(index))
    _renumber(step, job_ids)
    _touch(step.call_flow, user)
    if target != index:
        _audit_step_job(user, step, job, "step.job_moved", before=index + 1, after=target + 1)


def detach_deleted_job(*, job: Job) -> list[str]:
    """Remove a job from every draft that has it; return the phone numbers whose drafts changed."""
    links = StepJob.objects.filter(job=job).select_related("step")
    steps = {link.step for link in links}
    numbers = []
    for step in steps:
        job_ids = [
            j
            for j in StepJob.objects.filter(step=step).values_list("job_id", flat=True)
            if j != job.pk
        ]
        _renumber(step, job_ids)
        numbers.append(step.call_flow.phone_number.number)
    return sorted(set(numbers))


# Attaching knowledge: the 20-pages rule lives here (and in the database) ---------------------


def step_can_attach_knowledge(step: Step, *, attached_count: int) -> AttachCheck:
    """Whether the panel should offer "Attach" (a hint; the write asks again under the lock)."""
    if step.kind != StepKind.SONA:
        return AttachCheck(False, KNOWLEDGE_NOT_SONA)
    if attached_count >= MAX_KNOWLEDGE_PER_STEP:
        return AttachCheck(False, f"{TOO_MUCH_KNOWLEDGE}. Detach one to attach another.")
    return AttachCheck(True)


def _audit_step_page(user: User, step: Step, page: KnowledgePage, action: str, **details):
    _audit_step(user, step.call_flow, step, action, page=page.pk, page_title=page.title, **details)


@audit.write_service
def step_attach_knowledge(*, step: Step, page: KnowledgePage, user: User) -> StepKnowledge:
    """Attach a knowledge page at the end of a Sona step's list: at most 20, each once."""
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step, KNOWLEDGE_NOT_SONA)
    if page.workspace_id != step.call_flow.phone_number.workspace_id:
        raise ValidationError("That page belongs to another workspace.")
    if page.deleted_at is not None:
        raise ValidationError("That page was deleted. Restore it before attaching it.")
    attached = list(StepKnowledge.objects.filter(step=step).values_list("page_id", "position"))
    if any(page_id == page.pk for page_id, _ in attached):
        raise ValidationError(f"“{page.title}” is already attached to this step.")
    if len(attached) >= MAX_KNOWLEDGE_PER_STEP:
        raise ValidationError(f"{TOO_MUCH_KNOWLEDGE}. Detach one before attaching “{page.title}”.")
    position = max((p for _, p in attached), default=0) + 1
    try:
        with transaction.atomic():
            link = StepKnowledge.objects.create(step=step, page=page, position=position)
    except IntegrityError as exc:  # only reachable without the row lock
        raise ValidationError(f"{TOO_MUCH_KNOWLEDGE}.") from exc
    _touch(step.call_flow, user)
    _audit_step_page(user, step, page, "step.knowledge_attached", position=position)
    return link


def _renumber_knowledge(step: Step, page_ids: list[int]) -> None:
    # Delete and re-create: positions stay unique and within 1..20 at every moment.
    StepKnowledge.objects.filter(step=step).delete()
    StepKnowledge.objects.bulk_create(
        StepKnowledge(step=step, page_id=page_id, position=i)
        for i, page_id in enumerate(page_ids, start=1)
    )


def _attached_page_ids(step: Step, page: KnowledgePage) -> list[int]:
    page_ids = list(StepKnowledge.objects.filter(step=step).values_list("page_id", flat=True))
    if page.pk not in page_ids:
        raise ValidationError(f"“{page.title}” is not attached to this step.")
    return page_ids


@audit.write_service
def step_detach_knowledge(*, step: Step, page: KnowledgePage, user: User) -> None:
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step, KNOWLEDGE_NOT_SONA)
    page_ids = _attached_page_ids(step, page)
    page_ids.remove(page.pk)
    _renumber_knowledge(step, page_ids)
    _touch(step.call_flow, user)
    _audit_step_page(user, step, page, "step.knowledge_detached")


@audit.write_service
def step_move_knowledge(*, step: Step, page: KnowledgePage, offset: int, user: User) -> None:
    """Move an attached page up (-1) or down (+1) in the step's order."""
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    step = _lock_sona_step(step, KNOWLEDGE_NOT_SONA)
    page_ids = _attached_page_ids(step, page)
    index = page_ids.index(page.pk)
    target = min(max(index + offset, 0), len(page_ids) - 1)
    if target == index:
        return
    page_ids.insert(target, page_ids.pop(index))
    _renumber_knowledge(step, page_ids)
    _touch(step.call_flow, user)
    _audit_step_page(user, step, page, "step.knowledge_moved", before=index + 1, after=target + 1)


def detach_deleted_page(*, page: KnowledgePage) -> list[str]:
    """Remove a page from every draft that has it; return the drafts' numbers, as text."""
    steps = {
        link.step
        for link in StepKnowledge.objects.filter(page=page).select_related(
            "step__call_flow__phone_number"
        )
    }
    numbers = set()
    for step in steps:
        page_ids = StepKnowledge.objects.filter(step=step).values_list("page_id", flat=True)
        _renumber_knowledge(step, [p for p in page_ids if p != page.pk])
        phone = step.call_flow.phone_number
        numbers.add(f"{phone.display_name} ({phone.number})")
    return sorted(numbers)
