"""The draft's steps: add, change, move and remove; the call flow's row lock every draft
write takes, and the audit event of a step."""

from copy import deepcopy

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from workspaces import audit
from workspaces.models import Membership, User
from workspaces.permissions import EDIT, require_role

from ..models import CallFlow, Step, StepKind
from ..steps import DEFAULTS, Context, validate_settings

EDIT_FLOWS = "edit call flows"


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
