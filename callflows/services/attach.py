"""Jobs and knowledge pages on a Sona step: attach, create and attach, detach, reorder, and
leaving the drafts when one is deleted. One service over the two through-models (StepJob,
StepKnowledge); an `Attachment` declares what differs. The 10-jobs and 20-pages rules live
here (and in the database)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

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


@dataclass(frozen=True)
class Attachment:
    """What differs between attaching jobs and attaching knowledge pages to a step."""

    link: type[models.Model]  # the through-model: step, <field>, position
    field: str  # the through-model's link to the item, and its noun: "job", "page"
    limit: int  # how many a step may have
    too_many: str  # the sentence of the limit
    not_sona: str  # the refusal on a step that is not a Sona step
    audit_name: str  # the events: step.<audit_name>_attached, _detached, _moved
    audit_item: Callable[[models.Model], dict]  # how an event names the item

    @property
    def noun(self) -> str:
        """In sentences: "That job belongs to another workspace." """
        return self.field

    def ids(self, step: Step) -> list[int]:
        """The attached items' ids, in order."""
        return list(
            self.link.objects.filter(step=step)
            .order_by("position")
            .values_list(f"{self.field}_id", flat=True)
        )


JOBS = Attachment(
    link=StepJob,
    field="job",
    limit=MAX_JOBS_PER_STEP,
    too_many=TOO_MANY_JOBS,
    not_sona=NOT_SONA,
    audit_name="job",
    audit_item=lambda job: {"job": job.pk, "job_name": job.name},
)
KNOWLEDGE = Attachment(
    link=StepKnowledge,
    audit_item=lambda page: {"page": page.pk, "page_title": page.title},
    field="page",
    audit_name="knowledge",
    limit=MAX_KNOWLEDGE_PER_STEP,
    too_many=TOO_MUCH_KNOWLEDGE,
    not_sona=KNOWLEDGE_NOT_SONA,
)


@dataclass(frozen=True)
class AttachCheck:
    """Whether an item may be attached to a step now, and if not, why (for the page to show)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def can_attach(kind: Attachment, step: Step, *, attached_count: int | None = None) -> AttachCheck:
    """Whether the page should offer "Attach" on this step. A hint only: the write (_attach)
    asks the same rule again under the row lock. Pass `attached_count` when the caller already
    loaded the attachments (saves a query)."""
    if step.kind != StepKind.SONA:
        return AttachCheck(False, kind.not_sona)
    if attached_count is None:
        attached_count = kind.link.objects.filter(step=step).count()
    if attached_count >= kind.limit:
        return AttachCheck(False, f"{kind.too_many}. Detach one to attach another.")
    return AttachCheck(True)


def step_can_attach(step: Step, *, attached_count: int | None = None) -> AttachCheck:
    """Whether the page should offer "Attach" / "New job" on this step."""
    return can_attach(JOBS, step, attached_count=attached_count)


def step_can_attach_knowledge(step: Step, *, attached_count: int | None = None) -> AttachCheck:
    return can_attach(KNOWLEDGE, step, attached_count=attached_count)


def _lock_sona_step(kind: Attachment, step: Step, user: User) -> Step:
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    locked = (
        Step.objects.select_for_update().select_related("call_flow__phone_number").get(pk=step.pk)
    )
    if locked.kind != StepKind.SONA:
        raise ValidationError(kind.not_sona)
    return locked


def _audit(kind: Attachment, user: User, step: Step, item, event: str, **details) -> None:
    """Attachment events are about the step; the item is named in the details."""
    action = f"step.{kind.audit_name}_{event}"
    _audit_step(user, step.call_flow, step, action, **kind.audit_item(item), **details)


def renumber(kind: Attachment, step: Step, ids: list[int]) -> None:
    # Delete and re-create: positions stay unique and within 1..limit at every moment.
    kind.link.objects.filter(step=step).delete()
    kind.link.objects.bulk_create(
        kind.link(step=step, **{f"{kind.field}_id": pk}, position=i)
        for i, pk in enumerate(ids, start=1)
    )


def _attach(kind: Attachment, *, step: Step, item, user: User):
    """Attach an item at the end of a Sona step's list: at most `limit`, each at most once."""
    step = _lock_sona_step(kind, step, user)
    if item.workspace_id != step.call_flow.phone_number.workspace_id:
        raise ValidationError(f"That {kind.noun} belongs to another workspace.")
    if item.deleted_at is not None:
        raise ValidationError(f"That {kind.noun} was deleted. Restore it before attaching it.")
    attached = list(kind.link.objects.filter(step=step).values_list(f"{kind.field}_id", "position"))
    if any(pk == item.pk for pk, _ in attached):
        raise ValidationError(f"“{item}” is already attached to this step.")
    if len(attached) >= kind.limit:
        raise ValidationError(f"{kind.too_many}. Detach one before attaching “{item}”.")
    position = max((p for _, p in attached), default=0) + 1
    try:
        with transaction.atomic():
            link = kind.link.objects.create(step=step, **{kind.field: item}, position=position)
    except IntegrityError as exc:  # only reachable without the row lock (e.g. raw SQL races)
        raise ValidationError(f"{kind.too_many}.") from exc
    _touch(step.call_flow, user)
    _audit(kind, user, step, item, "attached", position=position)
    return link


def _attached_ids(kind: Attachment, step: Step, item) -> list[int]:
    ids = kind.ids(step)
    if item.pk not in ids:
        raise ValidationError(f"“{item}” is not attached to this step.")
    return ids


def _detach(kind: Attachment, *, step: Step, item, user: User) -> None:
    step = _lock_sona_step(kind, step, user)
    ids = _attached_ids(kind, step, item)
    ids.remove(item.pk)
    renumber(kind, step, ids)
    _touch(step.call_flow, user)
    _audit(kind, user, step, item, "detached")


def _move(kind: Attachment, *, step: Step, item, offset: int, user: User) -> None:
    """Move an attached item up (-1) or down (+1) in the step's order; at an end, nothing
    changes (no write, no event)."""
    step = _lock_sona_step(kind, step, user)
    ids = _attached_ids(kind, step, item)
    index = ids.index(item.pk)
    target = min(max(index + offset, 0), len(ids) - 1)
    if target == index:
        return
    ids.insert(target, ids.pop(index))
    renumber(kind, step, ids)
    _touch(step.call_flow, user)
    _audit(kind, user, step, item, "moved", before=index + 1, after=target + 1)


def detach_deleted(kind: Attachment, item) -> list[str]:
    """Remove a deleted item from every draft that has it; return the drafts' numbers, as
    "Name (number)". Two queries whatever the number of drafts, plus the renumbering."""
    links = kind.link.objects.filter(**{kind.field: item}).select_related(
        "step__call_flow__phone_number"
    )
    steps = {link.step for link in links}
    numbers = set()
    for step in steps:
        renumber(kind, step, [pk for pk in kind.ids(step) if pk != item.pk])
        phone = step.call_flow.phone_number
        numbers.add(f"{phone.display_name} ({phone.number})")
    return sorted(numbers)


# The services by name, as views, commands, the API and tests call them ---------------------


@audit.write_service
def step_attach_job(*, step: Step, job: Job, user: User) -> StepJob:
    return _attach(JOBS, step=step, item=job, user=user)


@audit.write_service
def step_detach_job(*, step: Step, job: Job, user: User) -> None:
    _detach(JOBS, step=step, item=job, user=user)


@audit.write_service
def step_move_job(*, step: Step, job: Job, offset: int, user: User) -> None:
    _move(JOBS, step=step, item=job, offset=offset, user=user)


def detach_deleted_job(*, job: Job) -> list[str]:
    return detach_deleted(JOBS, job)


def detach_deleted_page(*, page: KnowledgePage) -> list[str]:
    return detach_deleted(KNOWLEDGE, page)


@audit.write_service
def step_move_knowledge(*, step: Step, page: KnowledgePage, offset: int, user: User) -> None:
    _move(KNOWLEDGE, step=step, item=page, offset=offset, user=user)


@audit.write_service
def step_detach_knowledge(*, step: Step, page: KnowledgePage, user: User) -> None:
    _detach(KNOWLEDGE, step=step, item=page, user=user)


@audit.write_service
def step_attach_knowledge(*, step: Step, page: KnowledgePage, user: User) -> StepKnowledge:
    return _attach(KNOWLEDGE, step=step, item=page, user=user)


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
