"""The Alerts page, the home page's banner, the nav's count, acknowledging and resolving, the
rules page, "Email me alerts" and the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes.models import Alert, AlertRule, RuleKind
from outcomes.services import alert_raise, alert_rules_update
from tests.conftest import messages_of
from tests.factories import MembershipFactory, WorkspaceFactory
from workspaces.models import AuditEvent, Membership, Role, Workspace
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db

URL = reverse("outcomes:alerts")
RULES = reverse("outcomes:rules")


def _raise(workspace, n=1, kind=RuleKind.NO_JOB_MATCHED, **details):
    rule = AlertRule.objects.get(workspace=workspace, kind=kind)
    now = timezone.now()
    return [
        alert_raise(
            rule=rule,
            subject=f"step:1:s{i}",
            window=f"step:1:s{i}:day",
            message=f"No job matched 11 of the last 50 calls on step “Front desk {i}” (22%, "
            "above 15%).",
            details={
                "calls": [],
                "calls_url": "/calls/?number=1&outcome=no_job_matched",
                "change_url": "/numbers/1/versions/2/compare/",
                "change_label": "What version 2 changed",
                "rollback_url": "/numbers/1/versions/1/rollback/",
                "rollback_label": "Roll back to version 1",
                **details,
            },
            now=now - timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_the_page_lists_open_alerts_first_with_their_links(owner_client, workspace, owner):
    newest, older = _raise(workspace, 2)
    from outcomes.services import alert_resolve

    alert_resolve(alert=newest, user=owner)
    text = owner_client.get(URL).text
    assert text.index("Front desk 1") < text.index("Front desk 0")  # the open one first
    assert "resolved by" in text
    assert 'href="/calls/?number=1&amp;outcome=no_job_matched"' in text
    assert ">What version 2 changed</a>" in text and ">Roll back to version 1</a>" in text
    assert text.count(">Resolve</button>") == 1 and text.count(">Acknowledge</button>") == 1


def test_members_read_alerts_without_buttons(member_client, workspace):
    _raise(workspace)
    text = member_client.get(URL).text
    assert "Front desk 0" in text
    assert "Acknowledge" not in text and "Email me alerts" not in text
    assert "Roll back" not in text  # they may not roll back


def test_the_nav_counts_open_alerts_and_the_home_page_names_them(owner_client, workspace, owner):
    response = owner_client.get("/", follow=True)
    assert "open alert" not in response.text
    _raise(workspace, 4)
    text = owner_client.get("/", follow=True).text
    assert '<span class="badge alert">4<span class="sr-only"> open</span></span>' in text
    assert "4 open alerts" in text and "See all 4 open alerts" in text
    assert text.count("Front desk") == 3  # the newest three


def test_the_page_costs_the_same_at_2_and_20_alerts(
    owner_client, workspace, django_assert_max_num_queries
):
    _raise(workspace, 2)
    with django_assert_max_num_queries(8) as first:
        owner_client.get(URL)
    Alert.objects.all().delete()
    _raise(workspace, 20)
    with django_assert_max_num_queries(len(first)):
        owner_client.get(URL)


def test_acknowledge_and_resolve_are_audited(client, workspace, admin_user):
    client.force_login(admin_user)
    [alert] = _raise(workspace)
    response = client.post(reverse("outcomes:acknowledge", args=[alert.pk]), follow=True)
    assert messages_of(response) == ["Alert acknowledged."]
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user and alert.resolved_at is None
    assert Workspace.objects.get(pk=workspace.pk).open_alerts == 1
    response = client.post(reverse("outcomes:resolve", args=[alert.pk]), follow=True)
    assert messages_of(response) == ["Alert resolved."]
    alert.refresh_from_db()
    assert alert.resolved_by == admin_user and not alert.resolved_automatically
    assert Workspace.objects.get(pk=workspace.pk).open_alerts == 0
    events = AuditEvent.objects.filter(object_type="alert").order_by("pk")
    assert [(e.action, e.actor) for e in events] == [
        ("alert.raised", None),
        ("alert.acknowledged", admin_user),
        ("alert.resolved", admin_user),
    ]
    # again: a clear refusal, nothing more recorded
    response = client.post(reverse("outcomes:resolve", args=[alert.pk]), follow=True)
    assert messages_of(response) == ["This alert is already resolved."]
    assert AuditEvent.objects.filter(object_type="alert").count() == 3


def test_a_member_may_not_acknowledge_or_resolve(member_client, workspace, member):
    [alert] = _raise(workspace)
    for name in ("outcomes:acknowledge", "outcomes:resolve"):
        assert member_client.post(reverse(name, args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None and alert.resolved_at is None
    assert AuditEvent.objects.filter(action="write.refused", actor=member).count() == 2


def test_the_services_refuse_a_member(workspace, member):
    from outcomes.services import alert_acknowledge, alert_resolve

    [alert] = _raise(workspace)
    for service in (alert_acknowledge, alert_resolve):
        with pytest.raises(RoleRequired):
            service(alert=alert, user=member)


def test_another_workspaces_alert_is_not_found(owner_client):
    [alert] = _raise(WorkspaceFactory())
    for name in ("outcomes:acknowledge", "outcomes:resolve"):
        assert owner_client.post(reverse(name, args=[alert.pk])).status_code == 404
    assert "Front desk" not in owner_client.get(URL).text


# Rules ---------------------------------------------------------------------------------------

GOOD = {
    "no_job_matched-enabled": "on",
    "no_job_matched-percent": "20",
    "no_job_matched-calls": "100",
    "failed_actions-per_day": "5",  # failed_actions off: its box is not sent
    "worse_change-enabled": "on",
}


def _rules(workspace):
    return {
        r.kind: (r.enabled, r.percent, r.calls, r.per_day)
        for r in AlertRule.objects.filter(workspace=workspace)
    }


def test_owners_change_the_rules(owner_client, workspace, owner):
    response = owner_client.post(RULES, GOOD, follow=True)
    assert messages_of(response) == ["Alert rules saved."]
    assert _rules(workspace) == {
        "no_job_matched": (True, 20, 100, 3),
        "failed_actions": (False, 15, 50, 5),
        "worse_change": (True, 15, 50, 3),
    }
    events = AuditEvent.objects.filter(action="alert_rule.updated").order_by("object_id")
    assert len(events) == 2
    assert events[0].details["before"]["percent"] == 15
    rule = AlertRule.objects.get(workspace=workspace, kind="no_job_matched")
    assert rule.history.latest().history_user == owner
    # the same values again: nothing changes, nothing recorded
    owner_client.post(RULES, GOOD)
    assert AuditEvent.objects.filter(action="alert_rule.updated").count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("no_job_matched-percent", "0", "The share of calls must be a whole number from 1 to 99."),
        (
            "no_job_matched-percent",
            "abc",
            "The share of calls must be a whole number from 1 to 99.",
        ),
        ("no_job_matched-calls", "9", "The number of calls must be a whole number from 10 to 500."),
        ("failed_actions-per_day", "", "Failed transfers or SMS a day must be a whole number"),
    ],
)
def test_bad_rule_input_is_a_clear_error_and_changes_nothing(
    owner_client, workspace, field, value, message
):
    before = _rules(workspace)
    response = owner_client.post(RULES, {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.text
    assert _rules(workspace) == before
    assert not AuditEvent.objects.filter(action="alert_rule.updated").exists()


def test_admins_and_members_read_the_rules_but_may_not_change_them(
    client, workspace, admin_user, member
):
    before = _rules(workspace)
    for user in (admin_user, member):
        client.force_login(user)
        text = client.get(RULES).text
        assert "Only owners can change the alert rules." in text
        assert client.post(RULES, GOOD).status_code == 403
    assert _rules(workspace) == before
    with pytest.raises(RoleRequired):
        alert_rules_update(workspace=workspace, user=admin_user, values=GOOD)


def test_disabling_a_rule_stops_its_check(workspace, owner):
    numbers = {k: v for k, v in GOOD.items() if not k.endswith("-enabled")}
    alert_rules_update(workspace=workspace, user=owner, values=numbers)  # every box unticked
    assert not AlertRule.objects.filter(workspace=workspace, enabled=True).exists()


# Email me alerts ------------------------------------------------------------------------------


def test_owners_and_admins_opt_in_to_emails(client, workspace, admin_user):
    client.force_login(admin_user)
    assert "Email me alerts" in client.get(URL).text
    client.post(reverse("outcomes:email"), {"alert_emails": "on"})
    membership = Membership.objects.get(user=admin_user, workspace=workspace)
    assert membership.alert_emails is True
    assert 'name="alert_emails" value="on" checked' in client.get(URL).text
    client.post(reverse("outcomes:email"), {})
    membership.refresh_from_db()
    assert membership.alert_emails is False
    assert AuditEvent.objects.filter(action="member.alert_emails_changed").count() == 2


def test_a_member_may_not_opt_in(member_client, workspace, member):
    assert member_client.post(reverse("outcomes:email"), {"alert_emails": "on"}).status_code == 403
    assert Membership.objects.get(user=member, workspace=workspace).alert_emails is False


# Admin ---------------------------------------------------------------------------------------


def test_staff_read_alerts_and_change_rules_through_the_service(staff_client, staff, workspace):
    MembershipFactory(workspace=workspace, role=Role.OWNER)
    [alert] = _raise(workspace)
    text = staff_client.get(reverse("admin:outcomes_alert_changelist"), {"q": "Front"}).text
    assert alert.message[:30] in text
    assert staff_client.get(reverse("admin:outcomes_alertrule_changelist")).status_code == 200
    rule = AlertRule.objects.get(workspace=workspace, kind=RuleKind.FAILED_ACTIONS)
    url = reverse("admin:outcomes_alertrule_change", args=[rule.pk])
    data = {"enabled": "on", "percent": "15", "calls": "50", "per_day": "7"}
    assert staff_client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.per_day == 7
    event = AuditEvent.objects.get(action="alert_rule.updated")
    assert event.actor == staff and event.via_support
    assert (
        staff_client.get(reverse("admin:outcomes_alertrule_history", args=[rule.pk])).status_code
        == 200
    )


def test_the_activity_page_shows_the_checks_events(owner_client, workspace):
    _raise(workspace)
    text = owner_client.get(reverse("workspaces:activity")).text
    assert "raised an alert" in text and "by the alert check" in text
    assert f'href="/alerts/#alert-{Alert.objects.get().pk}"' in text
