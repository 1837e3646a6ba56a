"""Every write to phone numbers, call flows, steps, attachments and versions."""

from copy import deepcopy
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from jobs.models import Job
from jobs.selectors import jobs_naming
from jobs.services import job_create
from knowledge.models import KnowledgePage
from workspaces import audit, purge
from workspaces.models import Membership, User, Workspace
from workspaces.permissions import EDIT, require_role
from workspaces.phones import DEFAULT_REGION, format_phone, normalize_phone

from . import checks, live
from .checks import PUBLISH_BLOCKED, TESTS_FAILED, draft_problems, errors_of, test_failures
from .models import (
    MAX_JOBS_PER_STEP,
    MAX_KNOWLEDGE_PER_STEP,
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
from .snapshots import build_snapshot, draft_matches_live
from .steps import DEFAULTS, Context, validate_settings

TOO_MANY_JOBS = f"A Sona step can have at most {MAX_JOBS_PER_STEP} jobs"
NOT_SONA = "Jobs can only be attached to a Sona step."
TOO_MUCH_KNOWLEDGE = f"A Sona step can have at most {MAX_KNOWLEDGE_PER_STEP} knowledge pages"
KNOWLEDGE_NOT_SONA = "Knowledge can only be attached to a Sona step."
NOTHING_TO_PUBLISH = "Nothing to publish: the draft is the same as the live version."
CHANGE_NUMBERS = "change phone numbers"
EDIT_FLOWS = "edit call flows"


# Phone numbers -----------------------------------------------------------------------------


def normalize_number(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """'+1 (555) 123-4567' -> '+15551234567': workspaces.phones.normalize_phone, keyed "number"."""
    return normalize_phone(raw, region=region, field="number")


def _display_name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"display_name": "Give the number a name, e.g. “Main line”."})
    if len(value) > 100:
        raise ValidationError({"display_name": "A name can be at most 100 characters."})
    return value


def phone_number_validate(*, workspace: Workspace, number: str, display_name: str) -> dict:
    """The clean fields of a new number (E.164 read in the workspace's country), or the errors."""
    number = normalize_number(number, region=workspace.country)
    display_name = _display_name(display_name)
    if PhoneNumber.objects.live().filter(number=number).exists():
        raise ValidationError({"number": f"{number} is already in use."})
    return {"number": number, "display_name": display_name}


@audit.write_service
def phone_number_create(
    *, workspace: Workspace, number: str, display_name: str, user: User
) -> PhoneNumber:
    """Add a number with its call flow; the draft starts with one Sona step."""
    require_role(user, workspace, EDIT, CHANGE_NUMBERS)
    clean = phone_number_validate(workspace=workspace, number=number, display_name=display_name)
    number, display_name = clean["number"], clean["display_name"]
    try:
        with transaction.atomic():
            phone = PhoneNumber.objects.create(
                workspace=workspace, number=number, display_name=display_name
            )
    except IntegrityError as exc:  # lost a race for the same number
        raise ValidationError({"number": f"{number} is already in use."}) from exc
    flow = CallFlow.objects.create(phone_number=phone, draft_updated_by=user)
    Step.objects.create(
        call_flow=flow,
        position=1,
        kind=StepKind.SONA,
        name="Sona",
        settings=deepcopy(DEFAULTS[StepKind.SONA]),
    )
    _audit_number(user, phone, "number.added")
    return phone


def _audit_number(user: User, phone: PhoneNumber, action: str, **details) -> None:
    audit.record(
        user=user,
        workspace=phone.workspace,
        action=action,
        obj=phone,
        label=f"{phone.display_name} ({phone.number})",
        details={"number": phone.number, **details},
    )


@audit.write_service
def phone_number_rename(*, phone_number: PhoneNumber, display_name: str, user: User) -> PhoneNumber:
    require_role(user, phone_number.workspace, EDIT, CHANGE_NUMBERS)
    before, phone_number.display_name = phone_number.display_name, _display_name(display_name)
    phone_number.save(update_fields=["display_name"])
    after = phone_number.display_name
    _audit_number(user, phone_number, "number.renamed", before=before, after=after)
    live.number_changed(phone_number.pk)  # the name is in the body
    return phone_number


@audit.write_service
def phone_number_set_sms_registered(
    *, phone_number: PhoneNumber, registered: bool, user: User
) -> PhoneNumber:
    """Record whether the number is registered for SMS (done outside Playbook). Unmarking is
    refused while its live version has jobs that send SMS: a live flow never sends from an
    unregistered number."""
    require_role(user, phone_number.workspace, EDIT, CHANGE_NUMBERS)
    if not isinstance(registered, bool):
        raise ValidationError({"sms_registered": "Must be true or false."})
    flow = _lock_flow(phone_number.call_flow)
    phone = flow.phone_number
    if phone.sms_registered == registered:
        return phone
    phone.sms_registered = registered
    if not registered and flow.live_version_id:
        problems = checks.sms_problems(flow, flow.live_version.snapshot)
        if problems:
            raise ValidationError(
                {
                    "sms_registered": [
                        f"The live call flow still sends SMS: {p.message}" for p in problems
                    ]
                }
            )
    phone.save(update_fields=["sms_registered"])
    _audit_number(user, phone, "number.sms_registration_changed", after=registered)
    return phone


@audit.write_service
def phone_number_delete(*, phone_number: PhoneNumber, user: User) -> PhoneNumber:
    """Move a number to "Recently deleted": from the commit on its line answers no call (every
    lookup reads live numbers only) and the number may be added again. Its call flow, published
    versions, scenarios and settings are kept as they are, so phone_number_restore brings it
    all back; purge_deleted removes it for good after DELETED_KEEP_DAYS."""
    require_role(user, phone_number.workspace, EDIT, CHANGE_NUMBERS)
    phone = _lock_flow(phone_number.call_flow, deleted_ok=True).phone_number
    if phone.is_deleted:
        return phone
    # Simplest correct rule: a number a job's transfer names cannot go (the jobs would transfer
    # callers nowhere); the error names the jobs to edit first. Deleted jobs do not count.
    naming = jobs_naming(workspace=phone.workspace, number=phone.number)
    if naming:
        names = ", ".join(f"“{job.name}”" for job in naming)
        raise ValidationError(
            f"{phone.number} cannot be deleted: {names} transfer calls to it. "
            "Edit those jobs first."
        )
    phone.deleted_at, phone.deleted_by = timezone.now(), user
    phone.save(update_fields=["deleted_at", "deleted_by"])
    _audit_number(user, phone, "number.deleted")
    live.number_changed(phone.pk)
    return phone


@audit.write_service
def phone_number_restore(*, phone_number: PhoneNumber, user: User) -> PhoneNumber:
    """Bring a number back from "Recently deleted" with its call flow as it was: its live
    version (if any) answers calls again from the commit on. Refused while another number uses
    the same number."""
    require_role(user, phone_number.workspace, EDIT, CHANGE_NUMBERS)
    flow = _lock_flow(phone_number.call_flow, deleted_ok=True)
    phone = flow.phone_number
    if not phone.is_deleted:
        return phone
    if flow.live_version_id:  # it serves that version again: what it uses must be live
        snapshot = flow.live_version.snapshot
        _lock_jobs_live(snapshot, phone.workspace_id, RESTORE_REFUSAL)
        _lock_pages_live(snapshot, phone.workspace_id, RESTORE_REFUSAL)
    taken = PhoneNumber.objects.live().filter(number=phone.number).select_related("workspace")
    in_use = taken.first()
    if in_use is not None:
        where = (
            f"“{in_use.display_name}”"
            if in_use.workspace_id == phone.workspace_id
            else "another workspace"
        )
        raise ValidationError(
            f"{phone.number} cannot be restored: it is in use again by {where}. "
            "Delete that number first."
        )
    phone.deleted_at = phone.deleted_by = None
    try:
        with transaction.atomic():  # a savepoint: losing a race to re-add it is the same error
            phone.save(update_fields=["deleted_at", "deleted_by"])
    except IntegrityError as exc:
        raise ValidationError(
            f"{phone.number} cannot be restored: it is in use again. Delete that number first."
        ) from exc
    _audit_number(user, phone, "number.restored")
    live.number_changed(phone.pk)
    return phone


def phone_number_purge_deleted(*, now=None, batch_size: int = purge.BATCH) -> int:
    """Delete for good the numbers deleted more than DELETED_KEEP_DAYS ago, with their call
    flows, draft steps, published versions and scenarios; how many went.

    A system job (tasks.purge_deleted), not a write on anyone's behalf: no acting user and no
    role check. Each purged number gets a `number.purged` event without an actor, saying what
    went with it. Calls keep their data (number and names are copied on them; their link to the
    number is cleared, never the call). Jobs and pages only its versions named become purgeable
    (if deleted) on the same run, as it purges numbers first. Idempotent.
    """
    purgeable = PhoneNumber.objects.deleted().filter(deleted_at__lt=purge.cutoff(now))
    purged = 0
    for ids in purge.id_batches(purgeable, batch_size):
        with transaction.atomic():
            # Re-read under lock: a number restored since the batch was listed stays.
            phones = purgeable.filter(pk__in=ids).select_for_update(of=("self",))
            for phone in phones.select_related("workspace", "call_flow"):
                flow = phone.call_flow
                _audit_number(
                    None,
                    phone,
                    "number.purged",
                    deleted_at=phone.deleted_at.isoformat(),
                    versions=flow.versions.count(),
                    scenarios=flow.scenarios.count(),
                )
                # The live pointer PROTECTs its version; drop it, then everything goes.
                CallFlow.objects.filter(pk=flow.pk).update(live_version=None)
                phone.delete()
                purged += 1
    return purged


# Draft steps -------------------------------------------------------------------------------


DELETED_NUMBER = "{number} is in Recently deleted. Restore it before changing its call flow."


def _lock_flow(call_flow: CallFlow, *, deleted_ok: bool = False) -> CallFlow:
    """The call flow, locked, with its number; a number in Recently deleted is not changed
    (restore brings it back as it was), except by its delete and restore."""
    flow = CallFlow.objects.select_for_update().select_related("phone_number").get(pk=call_flow.pk)
    if flow.phone_number.is_deleted and not deleted_ok:
        raise ValidationError(DELETED_NUMBER.format(number=flow.phone_number.number))
    return flow


def _touch(flow: CallFlow, user: User) -> None:
    CallFlow.objects.filter(pk=flow.pk).update(
        draft_updated_at=timezone.now(), draft_updated_by=user
    )


def _context(flow: CallFlow, *, exclude_step: Step | None = None) -> Context:
    keys = set(flow.steps.values_list("key", flat=True))
    if exclude_step is not None:
        keys.discard(exclude_step.key)
    members = set(
        Membership.objects.filter(workspace_id=flow.phone_number.workspace_id).values_list(
            "user_id", flat=True
        )
    )
    region = flow.phone_number.workspace.country  # forward targets are read in this country
    return Context(member_ids=members, step_keys=keys, region=region)


def _name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"name": "Give the step a name."})
    if len(value) > 100:
        raise ValidationError({"name": "A step name can be at most 100 characters."})
    return value


@audit.write_service
def step_add(
    *, call_flow: CallFlow, kind: str, name: str, user: User, settings: dict | None = None
) -> Step:
    require_role(user, call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    flow = _lock_flow(call_flow)
    if kind not in StepKind.values:
        raise ValidationError({"kind": "Choose a step kind."})
    context = _context(flow)
    if settings is None:
        settings = deepcopy(DEFAULTS[kind])
        if kind == StepKind.RING_USERS:
            settings["members"] = sorted(context.member_ids)
        elif kind == StepKind.BUSINESS_HOURS:
            settings["timezone"] = flow.phone_number.workspace.zone  # its own, else the country's
    clean = validate_settings(kind, settings, context)
    position = (flow.steps.aggregate(m=Max("position"))["m"] or 0) + 1
    step = Step.objects.create(
        call_flow=flow, position=position, kind=kind, name=_name(name), settings=clean
    )
    _touch(flow, user)
    _audit_step(user, flow, step, "step.added", kind=kind, position=position)
    return step


def _audit_step(user: User, flow: CallFlow, step: Step, action: str, **details) -> None:
    """Step events name the step and its number; the Activity page links to the step."""
    audit.record(
        user=user,
        workspace=flow.phone_number.workspace,
        action=action,
        obj=step,
        label=f"{step.name} on {flow.phone_number.display_name}",
        details={"phone_id": flow.phone_number_id, **details},
    )


@audit.write_service
def step_update(*, step: Step, name: str, settings: dict, user: User) -> Step:
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    flow = _lock_flow(step.call_flow)
    step = Step.objects.get(pk=step.pk)
    before = {"name": step.name, "settings": step.settings}
    step.name = _name(name)
    step.settings = validate_settings(step.kind, settings, _context(flow, exclude_step=step))
    step.save(update_fields=["name", "settings"])
    _touch(flow, user)
    changed = [f for f in before if before[f] != getattr(step, f)]
    _audit_step(user, flow, step, "step.changed", fields=changed, before=before["name"])
    return step


@audit.write_service
def step_move(*, step: Step, offset: int, user: User) -> None:
    """Move a step up (-1) or down (+1) in its flow."""
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    flow = _lock_flow(step.call_flow)
    steps = list(flow.steps.order_by("position", "pk"))
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    target = index + offset
    if not 0 <= target < len(steps):
        return
    steps.insert(target, steps.pop(index))
    for position, each in enumerate(steps, start=1):
        if each.position != position:
            Step.objects.filter(pk=each.pk).update(position=position)
    _touch(flow, user)
    _audit_step(user, flow, steps[target], "step.moved", before=index + 1, after=target + 1)


@audit.write_service
def step_remove(*, step: Step, user: User) -> None:
    require_role(user, step.call_flow.phone_number.workspace, EDIT, EDIT_FLOWS)
    flow = _lock_flow(step.call_flow)
    step = Step.objects.get(pk=step.pk)
    # Branches that pointed at the removed step now point nowhere (shown as "not set").
    for other in flow.steps.filter(kind=StepKind.BUSINESS_HOURS).exclude(pk=step.pk):
        settings = other.settings if isinstance(other.settings, dict) else {}  # a script's shape
        changed = {k: "" for k in ("open_step", "closed_step") if settings.get(k) == step.key}
        if changed:
            other.settings = {**settings, **changed}
            other.save(update_fields=["settings"])
    _audit_step(user, flow, step, "step.removed", kind=step.kind)  # before delete clears the pk
    step.delete()
    for position, each in enumerate(flow.steps.order_by("position", "pk"), start=1):
        if each.position != position:
            Step.objects.filter(pk=each.pk).update(position=position)
    _touch(flow, user)


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


def numbers_using_page_live(page: KnowledgePage) -> list[str]:
    """The numbers whose live version uses the page, as people name them: "Main line
    (+1 555-555-0100)"."""
    rows = (
        PhoneNumber.objects.live()
        .filter(call_flow__live_version__published_knowledge__page=page)
        .values_list("display_name", "number")
        .distinct()
    )
    return [f"{name} ({format_phone(number)})" for name, number in sorted(rows)]


# Publish and rollback ----------------------------------------------------------------------


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError(
            {"note": f"A note can be at most 500 characters (it has {len(note):,})."}
        )
    return note


def _create_version(
    flow: CallFlow,
    snapshot: dict,
    *,
    user,
    note: str,
    rolled_back_from=None,
    override_reason: str = "",
) -> CallFlowVersion:
    for step in snapshot["steps"]:
        if len(step.get("jobs", [])) > MAX_JOBS_PER_STEP:
            raise ValidationError(f"{TOO_MANY_JOBS}; “{step['name']}” has {len(step['jobs'])}.")
        if len(step.get("knowledge", [])) > MAX_KNOWLEDGE_PER_STEP:
            raise ValidationError(
                f"{TOO_MUCH_KNOWLEDGE}; “{step['name']}” has {len(step['knowledge'])}."
            )
    number = (flow.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = CallFlowVersion.objects.create(
        call_flow=flow,
        number=number,
        snapshot=snapshot,
        note=_note(note),
        published_by=user,
        rolled_back_from=rolled_back_from,
        override_reason=override_reason,
    )
    PublishedJob.objects.bulk_create(
        PublishedJob(version=version, job_id=job_id, step_key=step["key"], position=i)
        for step in snapshot["steps"]
        for i, job_id in enumerate(step.get("jobs", []), start=1)
    )
    PublishedKnowledge.objects.bulk_create(
        PublishedKnowledge(version=version, page_id=page_id, step_key=step["key"], position=i)
        for step in snapshot["steps"]
        for i, page_id in enumerate(step.get("knowledge", []), start=1)
    )
    CallFlow.objects.filter(pk=flow.pk).update(live_version=version)
    flow.live_version = version
    live.number_changed(flow.phone_number_id)
    return version


PUBLISH_REFUSAL = (
    "Cannot publish: {names} was deleted since. Restore it from Recently deleted, "
    "or detach it, and try again."
)
RESTORE_REFUSAL = (
    "Cannot restore this number: its live version uses {names}, deleted since. "
    "Restore it from Recently deleted first."
)


def _lock_jobs_live(snapshot: dict, workspace_id: int, refusal: str = PUBLISH_REFUSAL) -> None:
    """Lock the jobs a version will name (in pk order, the order every path locks jobs in) and
    refuse if one was deleted. A concurrent delete either committed first (we see it here, after
    waiting for its lock) or waits for us and then finds the job live and refuses."""
    ids = {j for s in snapshot["steps"] for j in s.get("jobs", [])}
    _lock_live(Job, ids, workspace_id, "name", "some of its jobs", refusal)


def _lock_live(
    model, ids: set[int], workspace_id: int, label: str, unnamed: str, refusal: str
) -> None:
    """Lock `ids` rows of `model` in pk order; refuse if one is gone, deleted or foreign."""
    if not ids:
        return
    rows = list(
        # NO KEY: inserting rows that reference these (a draft's attachments, re-created by a
        # concurrent delete's detach) must not wait for us, or the two would deadlock.
        model.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .only("pk", label, "workspace_id", "deleted_at")
    )
    unusable = [r for r in rows if r.workspace_id != workspace_id or r.deleted_at is not None]
    if unusable or len(rows) != len(ids):
        names = ", ".join(f"“{getattr(r, label)}”" for r in unusable) or unnamed
        raise ValidationError(refusal.format(names=names))


def _refusal(heading: str, problems, code: str) -> ValidationError:
    """A refusal listing its problems under one heading (publish errors, failing test cases)."""
    return ValidationError(
        [ValidationError(heading, code=code)]
        + [ValidationError(p.message, code=code) for p in problems]
    )


def _refuse_errors(flow: CallFlow, snapshot: dict) -> None:
    """The one rule of callflows.checks: errors block publishing, warnings do not."""
    errors = errors_of(draft_problems(flow, snapshot))
    if errors:
        raise _refusal(PUBLISH_BLOCKED, errors, "problems")


def _override(flow: CallFlow, snapshot: dict, reason: str) -> str:
    """The reason kept on the version: failing test cases need one; passing ones keep none."""
    failures = test_failures(flow, snapshot)
    if not failures:
        return ""
    reason = (reason or "").strip()
    if not reason:
        raise _refusal(TESTS_FAILED, failures, "tests_failed")
    if len(reason) > 500:
        raise ValidationError(
            {"override_reason": f"A reason can be at most 500 characters (it has {len(reason):,})."}
        )
    return reason


def _lock_pages_live(snapshot: dict, workspace_id: int, refusal: str = PUBLISH_REFUSAL) -> None:
    """Like _lock_jobs_live, for knowledge pages: lock them in pk order and refuse if one was
    deleted meanwhile (a concurrent delete then waits and finds the page live)."""
    ids = {p for s in snapshot["steps"] for p in s.get("knowledge", [])}
    _lock_live(KnowledgePage, ids, workspace_id, "title", "some of its knowledge pages", refusal)


@audit.write_service
def callflow_publish(
    *, call_flow: CallFlow, user: User, note: str = "", override_reason: str = ""
) -> CallFlowVersion:
    """Freeze the draft into a new immutable version and make it live, in one transaction.

    The call flow row is locked, so a double submit publishes once: the second finds the
    draft equal to the live version and is told there is nothing to publish. A draft with
    errors (callflows.checks) is refused with the list of them; warnings do not stop it.
    Failing saved test cases refuse it too, unless `override_reason` says why to publish anyway
    (stored on the version and in the audit event).
    """
    require_role(user, call_flow.phone_number.workspace, EDIT, "publish call flows")
    flow = _lock_flow(call_flow)
    snapshot = build_snapshot(flow)
    live = flow.live_version.snapshot if flow.live_version_id else None
    if live is not None and live == snapshot:
        raise ValidationError(NOTHING_TO_PUBLISH)
    before = flow.live_version.number if flow.live_version_id else None
    _refuse_errors(flow, snapshot)
    reason = _override(flow, snapshot, override_reason)
    _lock_jobs_live(snapshot, flow.phone_number.workspace_id)
    _lock_pages_live(snapshot, flow.phone_number.workspace_id)
    version = _create_version(flow, snapshot, user=user, note=note, override_reason=reason)
    _audit_version(user, call_flow.phone_number.workspace, flow, version, before)
    return version


def _audit_version(user, workspace, flow: CallFlow, version: CallFlowVersion, before) -> None:
    """Publish or rollback (a version copied from an earlier one), in the workspace the role
    check already loaded."""
    phone = flow.phone_number
    audit.record(
        user=user,
        workspace=workspace,
        action="callflow.rolled_back" if version.rolled_back_from else "callflow.published",
        obj=version,
        label=f"Version {version.number} of {phone.display_name}",
        details={
            "phone_id": phone.pk,
            "before": before,
            "after": version.number,
            "rolled_back_to": version.rolled_back_from,
            "note": version.note,
            **({"override_reason": version.override_reason} if version.override_reason else {}),
        },
    )


@audit.write_service
def callflow_rollback(
    *,
    call_flow: CallFlow,
    version: CallFlowVersion,
    user: User,
    note: str = "",
    expected_live_number: int | None = None,
) -> CallFlowVersion:
    """Publish an earlier version again, as a new version. The draft follows it only when the
    draft had no unpublished changes; otherwise the draft is kept, so nobody's edits are lost.

    `expected_live_number`: the live version the person confirmed against (the confirmation
    page describes the change from it); when another version went live since, nothing is done."""
    require_role(user, call_flow.phone_number.workspace, EDIT, "roll back call flows")
    flow = _lock_flow(call_flow)
    if version.call_flow_id != flow.pk:
        raise ValidationError("That version belongs to another call flow.")
    if flow.live_version_id == version.pk:
        raise ValidationError(f"Version {version.number} is already live.")
    live_number = flow.live_version.number if flow.live_version_id else None
    if expected_live_number is not None and live_number != expected_live_number:
        raise ValidationError(
            f"Version {live_number} went live since you reviewed this change. "
            "Nothing was published: review what would change again.",
            code="stale",
        )
    _refuse_errors(flow, version.snapshot)  # today's job text goes live with it: same checks
    _lock_jobs_live(version.snapshot, flow.phone_number.workspace_id)
    _lock_pages_live(version.snapshot, flow.phone_number.workspace_id)
    draft_was_clean = draft_matches_live(flow)
    snapshot = deepcopy(version.snapshot)
    before = flow.live_version.number if flow.live_version_id else None
    created = _create_version(
        flow,
        snapshot,
        user=user,
        note=note or f"Rollback to version {version.number}",
        rolled_back_from=version.number,
    )
    if draft_was_clean:
        _replace_draft(flow, snapshot)
    _audit_version(user, call_flow.phone_number.workspace, flow, created, before)
    return created


def _replace_draft(flow: CallFlow, snapshot: dict) -> None:
    """Make the draft equal to `snapshot`. A step whose key still exists keeps its row (and id),
    so open step pages and bookmarks keep working; only its fields and attachments change."""
    existing = {step.key: step for step in flow.steps.all()}
    wanted = {data["key"] for data in snapshot["steps"]}
    flow.steps.exclude(key__in=wanted).delete()
    for position, data in enumerate(snapshot["steps"], start=1):
        fields = {k: data[k] for k in ("kind", "name", "settings")} | {"position": position}
        step = existing.get(data["key"])
        if step is None:
            step = Step.objects.create(call_flow=flow, key=data["key"], **fields)
        else:
            Step.objects.filter(pk=step.pk).update(**fields)
        _renumber(step, data.get("jobs", []))
        _renumber_knowledge(step, data.get("knowledge", []))


def numbers_using_job_live(job: Job) -> list[str]:
    """The numbers whose live version uses the job, as people name them: "Main line
    (+1 555-555-0100)"."""
    rows = (
        PhoneNumber.objects.live()
        .filter(call_flow__live_version__published_jobs__job=job)
        .values_list("display_name", "number")
        .distinct()
    )
    return [f"{name} ({format_phone(number)})" for name, number in sorted(rows)]
