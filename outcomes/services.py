"""Writes of the outcomes app: alert rules (owners), acknowledging and resolving alerts (owners
and admins), the "Email me alerts" choice; and the check's own writes (raising an alert,
resolving a cleared one), which act as no user (the system). Each records its audit event in
its transaction."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from webhooks.outbox import emit
from workspaces import audit
from workspaces.models import Membership, User, Workspace
from workspaces.permissions import EDIT, OWN, require_role

from .models import (
    CALLS_RANGE,
    PER_DAY_RANGE,
    PERCENT_RANGE,
    Alert,
    AlertRule,
    RuleKind,
    ensure_rules,
)

# What each rule kind lets an owner change, with the range and its words.
RULE_FIELDS = {
    RuleKind.NO_JOB_MATCHED: {
        "percent": (PERCENT_RANGE, "The share of calls"),
        "calls": (CALLS_RANGE, "The number of calls"),
    },
    RuleKind.FAILED_ACTIONS: {"per_day": (PER_DAY_RANGE, "Failed transfers or SMS a day")},
    RuleKind.WORSE_CHANGE: {},
}
_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"", "0", "false", "off", "no"}


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValidationError({name: "Choose on or off."})


def _whole(value, name: str, bounds: tuple[int, int], what: str) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({name: f"{what} must be a whole number from {low} to {high}."})
    return value


def alert_rules_validate(values: dict) -> dict[str, dict]:
    """The rules' new values from `values` ({"<kind>-enabled": …, "<kind>-<field>": …}; a
    kind's enabled flag absent means off, as an unticked checkbox sends nothing), field by
    field. Returns {kind: {field: value}}; raises one ValidationError naming every bad field."""
    clean, errors = {}, {}
    for kind, fields in RULE_FIELDS.items():
        clean[kind] = {}
        try:
            clean[kind]["enabled"] = _flag(values.get(f"{kind}-enabled"), f"{kind}-enabled")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        for name, (bounds, what) in fields.items():
            key = f"{kind}-{name}"
            try:
                clean[kind][name] = _whole(values.get(key), key, bounds, what)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return clean


@audit.write_service
def alert_rules_update(*, workspace: Workspace, user: User, values: dict) -> list[AlertRule]:
    """Turn the workspace's rules on or off and change their thresholds. Owners only. All or
    nothing: one bad field changes no rule. One `alert_rule.updated` event per rule changed."""
    require_role(user, workspace, OWN, "manage alert rules")
    clean = alert_rules_validate(values)
    ensure_rules(workspace.pk)
    rules = list(AlertRule.objects.select_for_update().filter(workspace=workspace))
    for rule in rules:
        after = clean[rule.kind]
        before = {name: getattr(rule, name) for name in after}
        if before == after:
            continue
        for name, value in after.items():
            setattr(rule, name, value)
        rule._history_user = user
        rule._change_reason = "Alert rule changed"
        rule.save()
        audit.record(
            user=user,
            workspace=workspace,
            action="alert_rule.updated",
            obj=rule,
            label=rule.get_kind_display(),
            details={"before": before, "after": after},
        )
    return rules


def _count_open(workspace_id: int, change: int) -> None:
    """Workspace.open_alerts (the nav's count) moved in the alert's transaction."""
    rows = Workspace.objects.filter(pk=workspace_id)
    if change < 0:
        rows = rows.filter(open_alerts__gte=-change)
    rows.update(open_alerts=F("open_alerts") + change)


def open_alerts_recount(*, workspace: Workspace) -> None:
    """Set Workspace.open_alerts from the alerts themselves (each check does: whatever drifted,
    e.g. a full save of a workspace loaded before a change, is right again). One UPDATE."""
    count = (
        Alert.objects.open()
        .filter(workspace=OuterRef("pk"))
        .order_by()
        .values("workspace")
        .annotate(n=Count("id"))
        .values("n")
    )
    Workspace.objects.filter(pk=workspace.pk).update(
        open_alerts=Coalesce(Subquery(count), Value(0))
    )


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().select_related("workspace").get(pk=alert.pk)


@audit.write_service
def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    """Someone is on it: the alert stays open, marked with who and when. Owners and admins.
    Acknowledging it again changes and records nothing; a resolved alert is refused."""
    require_role(user, alert.workspace, EDIT, "acknowledge alerts")
    current = _locked(alert)
    if current.resolved_at is not None:
        raise ValidationError("This alert is already resolved.")
    if current.acknowledged_at is None:
        current.acknowledged_at, current.acknowledged_by = timezone.now(), user
        current.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(
            user=user,
            workspace=current.workspace,
            action="alert.acknowledged",
            obj=current,
            label=current.message[:200],
        )
    return current


@audit.write_service
def alert_resolve(*, alert: Alert, user: User) -> Alert:
    """Close the alert by hand. Owners and admins. The same window raises no new alert; a later
    breach (a new window) does. A resolved alert is refused."""
    require_role(user, alert.workspace, EDIT, "resolve alerts")
    current = _locked(alert)
    if current.resolved_at is not None:
        raise ValidationError("This alert is already resolved.")
    current.resolved_at, current.resolved_by = timezone.now(), user
    current.save(update_fields=["resolved_at", "resolved_by"])
    _resolved(current, user=user, details={"automatic": False})
    return current


@audit.write_service
def alert_emails_set(*, workspace: Workspace, user: User, enabled: bool) -> Membership:
    """The acting member's own choice to get alerts by email. Owners and admins (the ones
    alerts are emailed to). The same value records nothing."""
    require_role(user, workspace, EDIT, "get alert emails")
    membership = Membership.objects.select_for_update().get(user=user, workspace=workspace)
    enabled = _flag(enabled, "alert_emails")
    if membership.alert_emails != enabled:
        membership.alert_emails = enabled
        membership.save(update_fields=["alert_emails"])
        audit.record(
            user=user,
            workspace=workspace,
            action="member.alert_emails_changed",
            obj=membership,
            label=user.get_full_name(),
            details={"before": not enabled, "after": enabled},
        )
    return membership


# The check's writes (outcomes/alerts.py), as the system: no user, no role.


def alert_raise(
    *, rule: AlertRule, subject: str, window: str, message: str, details: dict, now: datetime
) -> Alert | None:
    """Insert the alert unless its window already has one: the unique constraint decides, so
    two checks running at once raise it once. Returns the new alert, else None. Audited as no
    user; its `alert.raised` webhook messages are written in the same transaction (the
    webhooks outbox); the caller sends the email after the commit."""
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            rule=rule,
            window=window[:200],
            defaults={
                "workspace_id": rule.workspace_id,
                "subject": subject[:100],
                "message": message[:500],
                "details": details,
                "raised_at": now,
            },
        )
        if not created:
            return None
        _count_open(rule.workspace_id, +1)
        audit.record(
            user=None,
            workspace=rule.workspace,
            action="alert.raised",
            obj=alert,
            label=alert.message[:200],
            details={"rule": rule.kind, "window": alert.window},
        )
        emit(workspace=rule.workspace, event="alert.raised", data=_webhook_data(alert, rule))
    return alert


def _webhook_data(alert: Alert, rule: AlertRule) -> dict:
    """The `alert.raised` webhook message's data: what tripped, and the links behind it."""
    details = alert.details or {}
    links = {
        key: details[key] for key in ("calls_url", "change_url", "rollback_url") if details.get(key)
    }
    links["alert_url"] = alert.get_absolute_url()
    links["calls"] = [reverse("calls:detail", args=[pk]) for pk in details.get("calls", [])]
    return {
        "alert": alert.pk,
        "rule": rule.kind,
        "message": alert.message,
        "window": alert.window,
        "raised_at": alert.raised_at.isoformat(),
        "links": links,
    }


def alert_resolve_cleared(*, alert: Alert, now: datetime) -> bool:
    """The condition cleared: the alert resolves itself (resolved_by stays empty). False when
    it was resolved meanwhile (a person, another check)."""
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now):
            return False
        alert.resolved_at = now
        _resolved(alert, user=None, details={"automatic": True, "window": alert.window})
    return True


def _resolved(alert: Alert, *, user: User | None, details: dict) -> None:
    """An alert just closed (by a person or by the check): the open count and the event."""
    _count_open(alert.workspace_id, -1)
    audit.record(
        user=user,
        workspace=alert.workspace,
        action="alert.resolved",
        obj=alert,
        label=alert.message[:200],
        details=details,
    )
