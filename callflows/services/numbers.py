"""Phone numbers: add (with its call flow), rename, SMS registration, delete to Recently
deleted, restore, and the purge of numbers deleted long ago."""

from copy import deepcopy

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import purge
from core.phones import DEFAULT_REGION, normalize_phone
from jobs.selectors import jobs_naming
from workspaces import audit
from workspaces.models import User, Workspace
from workspaces.permissions import EDIT, require_role

from .. import checks, live
from ..models import CallFlow, PhoneNumber, Step, StepKind
from ..steps import DEFAULTS
from .publish import RESTORE_REFUSAL, _lock_jobs_live, _lock_pages_live
from .steps import _lock_flow

CHANGE_NUMBERS = "change phone numbers"


def normalize_number(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """'+1 (555) 123-4567' -> '+15551234567': core.phones.normalize_phone, keyed "number"."""
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
