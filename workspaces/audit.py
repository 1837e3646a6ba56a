"""The audit log: one call per change, made by the service in the change's transaction.

    audit.record(user=user, workspace=ws, action="callflow.published", obj=version,
                 label="Version 3 of Main line", details={"before": 2, "after": 3, "note": note})

Actions are "<object>.<verb>" strings (see ACTIONS). Only services call `record`; a test checks
that nothing else writes AuditEvent rows. System jobs (prune_calls, purge_deleted) act as no user:
they record `user=None`, and the Activity page names the job instead of a person.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import wraps

from django.db import models, transaction
from django.utils import timezone

from .models import AuditEvent, Workspace
from .permissions import RoleRequired, is_support

# Every action the services record, with the words the Activity page shows.
ACTIONS = {
    "callflow.published": "published",
    "callflow.rolled_back": "rolled back",
    "step.added": "added a step",
    "step.changed": "changed a step",
    "step.removed": "removed a step",
    "step.moved": "moved a step",
    "step.job_attached": "attached a job",
    "step.job_detached": "detached a job",
    "step.job_moved": "reordered jobs",
    "job.created": "created a job",
    "job.edited": "edited a job",
    "job.deleted": "deleted a job",
    "job.restored": "restored a job",
    "job.purged": "purged a deleted job",
    "job.optimized": "optimized a job",
    "job.undo_optimize": "undid an optimize",
    "job.imported": "imported jobs",
    "knowledge.created": "created a knowledge page",
    "knowledge.edited": "edited a knowledge page",
    "knowledge.deleted": "deleted a knowledge page",
    "knowledge.restored": "restored a knowledge page",
    "knowledge.purged": "purged a deleted knowledge page",
    "knowledge.imported": "imported knowledge",
    "step.knowledge_attached": "attached knowledge",
    "step.knowledge_detached": "detached knowledge",
    "step.knowledge_moved": "reordered knowledge",
    "template.saved": "saved a template",
    "template.deleted": "deleted a template",
    "number.added": "added a phone number",
    "number.renamed": "renamed a phone number",
    "number.deleted": "deleted a phone number",
    "number.restored": "restored a phone number",
    "number.purged": "purged a deleted phone number",
    "number.sms_registration_changed": "changed SMS registration",
    "token.created": "created an API token",
    "token.revoked": "revoked an API token",
    "invitation.sent": "invited someone",
    "invitation.accepted": "accepted an invitation",
    "invitation.declined": "declined an invitation",
    "invitation.revoked": "revoked an invitation",
    "member.role_changed": "changed a role",
    "member.removed": "removed a member",
    "call.mock_ended": "ran a mock call",
    "call.pruned": "deleted old calls",
    "workspace.retention_changed": "changed call retention",
    "workspace.time_zone_changed": "changed the time zone",
    "testcase.saved": "saved a test case",
    "testcase.deleted": "deleted a test case",
    "scenario.created": "added a scenario",
    "scenario.changed": "changed a scenario",
    "scenario.deleted": "deleted a scenario",
    "scenario.imported": "imported scenarios",
    "signin.source_unlocked": "lifted a sign-in lockout",
    "user.signed_up": "signed up",
    "user.email_verified": "verified their email",
    "webhook.added": "added a webhook",
    "webhook.updated": "changed a webhook",
    "webhook.rotated": "rotated a webhook secret",
    "webhook.disabled": "disabled a webhook",
    "webhook.enabled": "enabled a webhook",
    "webhook.deleted": "deleted a webhook",
    "webhook.resent": "resent a webhook message",
    "alert.raised": "raised an alert",
    "alert.acknowledged": "acknowledged an alert",
    "alert.resolved": "resolved an alert",
    "alert_rule.updated": "changed an alert rule",
    "member.alert_emails_changed": "changed their alert emails",
    "write.refused": "was refused",
}


# The time events are dated with, when not now: set only by `dated` (the demo builds a history
# that happened weeks ago, and its Activity must say when, as its versions do).
_dated: ContextVar[datetime | None] = ContextVar("audit_dated", default=None)


@contextmanager
def dated(when: datetime):
    """Date the events recorded inside at `when` instead of now (demo data only)."""
    token = _dated.set(when)
    try:
        yield
    finally:
        _dated.reset(token)


def record(
    *,
    user,
    workspace: Workspace | None,
    action: str,
    obj: models.Model | None = None,
    label: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction, after the change."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it to workspaces.audit.ACTIONS.")
    actor = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=actor,
        actor_label=(actor.get_full_name() if actor else "")[:254],
        via_support=actor is not None and is_support(actor),
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_label=(label or (str(obj) if obj is not None else ""))[:200],
        details=details or {},
        created_at=_dated.get() or timezone.now(),
    )


# How many write services are running in this context: only the outermost records a refusal.
_depth: ContextVar[int] = ContextVar("write_service_depth", default=0)


def write_service(fn=None, *, atomic: bool = True):
    """Decorate a write service: `@transaction.atomic`, plus the refused attempt in the log.

    When require_role refuses, the service's transaction rolls back (nothing changed) and then
    the outermost write service records one `write.refused` event, so it survives the rollback
    and a nested service's refusal is not recorded twice. `atomic=False` for a service that
    runs its own transactions (job_optimize calls the optimizer outside any).
    """

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            outermost = _depth.get() == 0
            token = _depth.set(_depth.get() + 1)
            try:
                if not atomic:
                    return fn(*args, **kwargs)
                with transaction.atomic():
                    return fn(*args, **kwargs)
            except RoleRequired as exc:
                exc.service = getattr(exc, "service", "") or fn.__name__  # the one that refused
                if outermost:
                    record_refusal(exc, attempted=exc.action, service=exc.service)
                raise
            finally:
                _depth.reset(token)

        return wrapper

    return decorate(fn) if fn is not None else decorate


def record_refusal(exc: RoleRequired, *, attempted: str, **details) -> None:
    """Record a refused write once (write_service and workspace_view call this, nobody else)."""
    if exc.recorded or exc.workspace is None:
        return
    exc.recorded = True
    record(
        user=exc.user,
        workspace=exc.workspace,
        action="write.refused",
        label=attempted[:200],
        details={"attempted": attempted, **details},
    )
