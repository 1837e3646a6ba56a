"""Careful reads of the workspaces app: invitations, and the Activity page's events and their links."""

import hashlib

from django.apps import apps
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse

from .models import AuditEvent, Invitation, Membership, Workspace

# Object types of the audit log, in the words of the Activity page's filter.
OBJECT_TYPES = {
    "callflowversion": "Call flow versions",
    "step": "Call flow steps",
    "job": "Jobs",
    "jobtemplate": "Templates",
    "knowledgepage": "Knowledge pages",
    "phonenumber": "Phone numbers",
    "membership": "Members",
    "invitation": "Invitations",
    "apitoken": "API tokens",
    "webhookendpoint": "Webhooks",
    "alert": "Alerts",
    "alertrule": "Alert rules",
}
# The model behind each type that has a page to link to, as "app.Model".
_MODELS = {
    "callflowversion": "callflows.CallFlowVersion",
    "step": "callflows.Step",
    "job": "jobs.Job",
    "jobtemplate": "jobs.JobTemplate",
    "knowledgepage": "knowledge.KnowledgePage",
    "phonenumber": "callflows.PhoneNumber",
    "membership": "workspaces.Membership",
    "apitoken": "workspaces.ApiToken",
    "webhookendpoint": "webhooks.WebhookEndpoint",
    # the outcomes app's (above this one): named by label, never imported
    "alert": "outcomes.Alert",
    "alertrule": "outcomes.AlertRule",
}


def audit_events(
    *,
    workspace: Workspace,
    actor_id: int | None = None,
    action: str = "",
    object_type: str = "",
    search: str = "",
) -> QuerySet[AuditEvent]:
    """A workspace's events, newest first (for a paginated list)."""
    events = AuditEvent.objects.filter(workspace=workspace)  # the page shows actor_label
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if search:
        events = events.filter(object_label__icontains=search)
    return events.order_by("-created_at", "-pk")


def workspace_people(*, workspace: Workspace) -> list[tuple[int, str]]:
    """(user id, name) of the workspace's members, for the person filter."""
    members = Membership.objects.filter(workspace=workspace).select_related("user")
    people = [(m.user_id, m.user.get_full_name()) for m in members]
    return sorted(people, key=lambda person: person[1].lower())


def _existing(model_label: str, ids: set[str], workspace: Workspace) -> dict[str, object]:
    """The rows of `ids` that still exist in the workspace: one query per object type."""
    model = apps.get_model(model_label)
    pks = [int(i) for i in ids if i.isdigit()]
    rows = model.objects.filter(pk__in=pks)
    scope = {
        "callflows.CallFlowVersion": "call_flow__phone_number__workspace",
        "callflows.Step": "call_flow__phone_number__workspace",
        "callflows.PhoneNumber": "workspace",
    }.get(model_label, "workspace")
    rows = rows.filter(**{scope: workspace})
    if model_label.startswith("callflows."):  # a number in Recently deleted has no pages
        number = "deleted_at" if scope == "workspace" else "call_flow__phone_number__deleted_at"
        rows = rows.filter(**{f"{number}__isnull": True})
    if scope != "workspace":  # versions and steps link through their phone number
        rows = rows.select_related("call_flow")
    return {str(row.pk): row for row in rows}


def audit_links(events: list[AuditEvent], *, workspace: Workspace) -> dict[int, str]:
    """Event pk -> the page of its object (or version), for objects that still exist.

    One query per object type on the page, whatever the number of events.
    """
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in _MODELS and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    found = {kind: _existing(_MODELS[kind], ids, workspace) for kind, ids in sorted(wanted.items())}
    links = {}
    for event in events:
        obj = found.get(event.object_type, {}).get(event.object_id)
        if obj is not None:
            links[event.pk] = _link(event, obj)
    return links


def _link(event: AuditEvent, obj) -> str:
    kind, details = event.object_type, event.details or {}
    if kind == "job":
        before, after = details.get("before"), details.get("after")
        if before and after:  # an edit: the two versions side by side
            return reverse("jobs:compare", args=[obj.pk]) + f"?a={before}&b={after}"
        return reverse("jobs:detail", args=[obj.pk])  # a deleted job's page offers Restore
    if kind == "knowledgepage":
        before, after = details.get("before"), details.get("after")
        if before and after:
            return reverse("knowledge:compare", args=[obj.pk]) + f"?a={before}&b={after}"
        return reverse("knowledge:detail", args=[obj.pk])
    if kind == "callflowversion":
        return reverse("callflows:versions", args=[obj.call_flow.phone_number_id])
    if kind == "step":
        return reverse("callflows:step_edit", args=[obj.call_flow.phone_number_id, obj.pk])
    if kind == "phonenumber":
        return reverse("callflows:editor", args=[obj.pk])
    if kind == "membership":
        return reverse("workspaces:members")
    if kind == "apitoken":
        return reverse("workspaces:tokens")
    if kind == "webhookendpoint":
        return reverse("webhooks:detail", args=[obj.pk])
    if kind == "alert":
        return reverse("outcomes:alerts") + f"#alert-{obj.pk}"
    if kind == "alertrule":
        return reverse("outcomes:rules")
    return reverse("jobs:new")  # jobtemplate: where templates are picked


INVITATION_SALT = "workspaces.invitation"


def nonce_hash(nonce: str) -> str:
    # The nonce is 256 random bits: a plain SHA-256 is enough to keep the database from
    # holding a working link.
    return hashlib.sha256(nonce.encode()).hexdigest()


def invitation_from_token(token: str, *, lock: bool = False) -> Invitation | None:
    """The invitation an emailed link names, whatever its state; None for a link that was
    tampered with, replaced by Resend, or never existed."""
    try:
        nonce = signing.loads(token or "", salt=INVITATION_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(nonce, str):
        return None
    invitations = Invitation.objects.select_related("workspace", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    return invitations.filter(nonce_hash=nonce_hash(nonce)).first()


def pending_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.pending()
        .filter(workspace=workspace)
        .select_related("invited_by")
        .order_by("email")
    )
