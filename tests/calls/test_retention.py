"""Retention (issue 11, point 5): the owner's setting (service, page, admin) and prune_calls,
which deletes old calls and clears old transcripts in batches, workspace by workspace."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from calls import services
from calls.models import Call
from tests.conftest import command_help, postgres_only, workspace_admin_post
from tests.factories import CallFactory, MembershipFactory, PhoneNumberFactory
from workspaces.models import AuditEvent, Role, Workspace
from workspaces.permissions import RoleRequired
from workspaces.services import workspace_set_retention

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _calls(phone, *days_ago, transcript="Caller: hello\nSona: hi"):
    return [
        CallFactory(
            phone_number=phone,
            started_at=NOW - timedelta(days=d, minutes=1),
            transcript=transcript,
            summary=f"Call {d} days ago.",
        )
        for d in days_ago
    ]


def _days_left(workspace):
    calls = Call.objects.filter(workspace=workspace).order_by("started_at")
    return [((NOW - c.started_at).days, bool(c.transcript), c.summary) for c in calls]


def _set(workspace, call_days, transcript_days):
    Workspace.objects.filter(pk=workspace.pk).update(
        call_retention_days=call_days, transcript_retention_days=transcript_days
    )


# The setting ----------------------------------------------------------------------------------


def test_owner_sets_retention_and_it_is_audited(workspace, owner):
    assert (workspace.call_retention_days, workspace.transcript_retention_days) == (365, None)
    workspace_set_retention(workspace=workspace, call_days=90, transcript_days=30, user=owner)
    workspace.refresh_from_db()
    assert (workspace.call_retention_days, workspace.transcript_retention_days) == (90, 30)
    event = AuditEvent.objects.get(action="workspace.retention_changed")
    assert (event.actor, event.workspace) == (owner, workspace)
    assert event.details == {
        "before": {"call_retention_days": 365, "transcript_retention_days": None},
        "after": {"call_retention_days": 90, "transcript_retention_days": 30},
    }


def test_saving_the_same_retention_changes_and_records_nothing(workspace, owner):
    workspace_set_retention(workspace=workspace, call_days=365, transcript_days=None, user=owner)
    assert not AuditEvent.objects.filter(action="workspace.retention_changed").exists()


@pytest.mark.parametrize(
    ("call_days", "transcript_days", "field", "message"),
    [
        (0, None, "call_retention_days", "Keep calls for must be between 1 and 3,650 days."),
        (3651, None, "call_retention_days", "Keep calls for must be between 1 and 3,650 days."),
        ("many", None, "call_retention_days", "Keep calls for must be a whole number of days."),
        (
            30,
            31,
            "transcript_retention_days",
            "Transcripts cannot be kept longer than the calls (30 days): enter fewer days, or "
            "leave it empty to keep them as long as the calls.",
        ),
        (30, 0, "transcript_retention_days", "Keep transcripts for must be between 1 and 3,650"),
    ],
)
def test_bad_retention_is_refused_and_nothing_changes(
    workspace, owner, call_days, transcript_days, field, message
):
    with pytest.raises(ValidationError) as exc:
        workspace_set_retention(
            workspace=workspace, call_days=call_days, transcript_days=transcript_days, user=owner
        )
    assert exc.value.message_dict[field][0].startswith(message)
    workspace.refresh_from_db()
    assert (workspace.call_retention_days, workspace.transcript_retention_days) == (365, None)
    assert not AuditEvent.objects.filter(action="workspace.retention_changed").exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_set_retention(workspace, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    with pytest.raises(
        RoleRequired, match=f"Only owners of {workspace.name} can manage call retention."
    ):
        workspace_set_retention(workspace=workspace, call_days=7, transcript_days=None, user=user)
    workspace.refresh_from_db()
    assert workspace.call_retention_days == 365
    refused = AuditEvent.objects.get(action="write.refused")
    assert refused.details["service"] == "workspace_set_retention"


# The settings page ------------------------------------------------------------------------


def test_settings_page_saves_the_owners_retention(owner_client, workspace):
    url = reverse("workspaces:settings")
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "Call retention" in page.content.decode()
    assert "Keep calls for (days)" in page.content.decode()
    response = owner_client.post(
        url,
        {"section": "retention", "call_retention_days": "120", "transcript_retention_days": "14"},
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.call_retention_days, workspace.transcript_retention_days) == (120, 14)
    assert AuditEvent.objects.filter(action="workspace.retention_changed").count() == 1


def test_settings_page_shows_the_services_message_next_to_the_field(owner_client, workspace):
    response = owner_client.post(
        reverse("workspaces:settings"),
        {"section": "retention", "call_retention_days": "30", "transcript_retention_days": "60"},
    )
    assert response.status_code == 200
    field = response.context["form"].errors["transcript_retention_days"]
    assert field[0].startswith("Transcripts cannot be kept longer than the calls (30 days)")
    workspace.refresh_from_db()
    assert workspace.transcript_retention_days is None


def test_an_admin_sees_retention_and_is_refused_on_post(client, workspace):
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    client.force_login(admin)
    url = reverse("workspaces:settings")
    page = client.get(url).content.decode()
    assert "365 days" in page and "Only owners can change" in page and "Save retention" not in page
    response = client.post(url, {"section": "retention", "call_retention_days": "7"})
    assert response.status_code == 403
    assert "Only owners of" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.call_retention_days == 365


def test_a_member_is_refused_on_post(member_client, workspace):
    response = member_client.post(
        reverse("workspaces:settings"), {"section": "retention", "call_retention_days": "7"}
    )
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.call_retention_days == 365


# Admin ---------------------------------------------------------------------------------------


def test_admin_sets_retention_through_the_service(staff_client, staff, workspace, owner):
    response = workspace_admin_post(
        staff_client, workspace, call_retention_days="60", transcript_retention_days="10"
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.call_retention_days, workspace.transcript_retention_days) == (60, 10)
    event = AuditEvent.objects.get(action="workspace.retention_changed")
    assert (event.actor, event.via_support) == (staff, True)


def test_admin_shows_the_services_message(staff_client, workspace, owner):
    response = workspace_admin_post(
        staff_client, workspace, call_retention_days="20", transcript_retention_days="21"
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["transcript_retention_days"]
    assert errors[0].startswith("Transcripts cannot be kept longer than the calls (20 days)")
    workspace.refresh_from_db()
    assert workspace.call_retention_days == 365


# calls_prune ------------------------------------------------------------------------------


@pytest.fixture
def phone(workspace):
    return PhoneNumberFactory(workspace=workspace)


def test_prune_deletes_old_calls_clears_old_transcripts_and_keeps_summaries(workspace, phone):
    _set(workspace, 100, 10)
    _calls(phone, 1, 9, 11, 99, 101, 400)
    [result] = services.calls_prune(workspace=workspace, now=NOW)
    assert (result.calls_deleted, result.transcripts_cleared) == (2, 2)
    assert _days_left(workspace) == [
        (99, False, "Call 99 days ago."),
        (11, False, "Call 11 days ago."),
        (9, True, "Call 9 days ago."),
        (1, True, "Call 1 days ago."),
    ]
    event = AuditEvent.objects.get(action="call.pruned")
    assert (event.actor, event.workspace) == (None, workspace)
    assert event.details == {
        "calls_deleted": 2,
        "transcripts_cleared": 2,
        "call_days": 100,
        "transcript_days": 10,
    }


def test_prune_works_in_batches_of_the_given_size(workspace, phone):
    _set(workspace, 30, 20)
    _calls(phone, *range(31, 38))  # 7 old calls
    _calls(phone, *range(21, 26))  # 5 old transcripts
    batches = []
    [result] = services.calls_prune(
        workspace=workspace,
        now=NOW,
        batch_size=3,
        on_batch=lambda kind, rows, seconds: batches.append((kind, rows)),
    )
    assert batches == [
        ("delete", 3),
        ("delete", 3),
        ("delete", 1),
        ("transcripts", 3),
        ("transcripts", 2),
    ]
    assert (result.calls_deleted, result.transcripts_cleared) == (7, 5)
    assert Call.objects.filter(workspace=workspace).count() == 5


def test_calls_at_the_same_moment_are_all_pruned_across_batches(workspace, phone):
    moment = NOW - timedelta(days=400)
    for _ in range(5):
        CallFactory(phone_number=phone, started_at=moment)
    [result] = services.calls_prune(workspace=workspace, now=NOW, batch_size=2)
    assert result.calls_deleted == 5 and not Call.objects.exists()


def test_dry_run_counts_and_changes_nothing(workspace, phone):
    _set(workspace, 100, 10)
    _calls(phone, 1, 11, 101)
    before = list(Call.objects.order_by("pk").values())
    [result] = services.calls_prune(workspace=workspace, now=NOW, dry_run=True)
    assert (result.calls_deleted, result.transcripts_cleared, result.dry_run) == (1, 1, True)
    assert list(Call.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(action="call.pruned").exists()


def test_each_workspace_keeps_its_own_retention(workspace, phone, other_workspace):
    _set(workspace, 30, None)
    theirs = PhoneNumberFactory(workspace=other_workspace)
    _calls(phone, 10, 40)
    _calls(theirs, 10, 40, 400)
    results = {r.workspace: r for r in services.calls_prune(now=NOW)}
    assert results[workspace].calls_deleted == 1
    assert results[other_workspace].calls_deleted == 1  # the default 365 days
    assert [d for d, *_ in _days_left(workspace)] == [10]
    assert [d for d, *_ in _days_left(other_workspace)] == [40, 10]
    assert all(t for _, t, _ in _days_left(other_workspace))  # no transcript setting: kept


def test_prune_of_one_workspace_leaves_the_others_alone(workspace, phone, other_workspace):
    theirs = PhoneNumberFactory(workspace=other_workspace)
    _calls(phone, 400)
    _calls(theirs, 400)
    services.calls_prune(workspace=workspace, now=NOW)
    assert not Call.objects.filter(workspace=workspace).exists()
    assert Call.objects.filter(workspace=other_workspace).count() == 1


def test_nothing_to_prune_records_nothing(workspace, phone):
    _calls(phone, 1)
    [result] = services.calls_prune(workspace=workspace, now=NOW)
    assert (result.calls_deleted, result.transcripts_cleared) == (0, 0)
    assert not AuditEvent.objects.filter(action="call.pruned").exists()


def test_a_batch_size_below_one_is_refused(workspace):
    with pytest.raises(ValidationError, match="at least 1"):
        services.calls_prune(batch_size=0)


# The command ----------------------------------------------------------------------------------


def test_command_help(capsys):
    text = command_help("prune_calls", capsys)
    assert "--dry-run" in text and "--workspace" in text and "system job" in text


def test_command_prunes_and_prints_counts_per_workspace(workspace, phone, capsys):
    _set(workspace, 100, 10)
    _calls(phone, 1, 11, 101, 102)
    call_command("prune_calls", "--workspace", workspace.slug)
    out = capsys.readouterr().out
    assert (
        f"{workspace.slug}: deleted 2 call(s) older than 100 days; cleared 1 transcript(s) "
        "older than 10 days." in out
    )
    assert "Total: deleted 2 call(s), cleared 1 transcript(s)." in out
    assert Call.objects.count() == 2


def test_command_dry_run_changes_nothing(workspace, phone, capsys):
    _calls(phone, 400, 500)
    call_command("prune_calls", "--dry-run")
    out = capsys.readouterr().out
    assert f"{workspace.slug}: would delete 2 call(s) older than 365 days." in out
    assert "Dry run: nothing was changed." in out
    assert Call.objects.count() == 2


def test_command_unknown_workspace_is_a_clear_error(workspace):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'.") as exc:
        call_command("prune_calls", "--workspace", "nope")
    assert exc.value.returncode == 1


def test_command_bad_batch_size_is_a_clear_error(workspace):
    with pytest.raises(CommandError, match="The batch size must be at least 1."):
        call_command("prune_calls", "--batch-size", "0")


def test_the_activity_page_says_what_changed_and_what_was_pruned(owner_client, workspace, owner):
    phone = PhoneNumberFactory(workspace=workspace)
    workspace_set_retention(workspace=workspace, call_days=30, transcript_days=7, user=owner)
    _calls(phone, 40)
    services.calls_prune(now=NOW)
    page = owner_client.get(reverse("workspaces:activity")).content.decode()
    assert "changed call retention" in page and "calls 365 → 30 days" in page
    assert "deleted old calls" in page and "by prune_calls: 1 calls deleted" in page


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_prune_is_not_blocked_by_a_report_being_inserted(workspace, phone):
    """A report inserting a call in an open transaction neither blocks the prune nor is lost."""
    _calls(phone, 400, 401)
    inserted, release = threading.Event(), threading.Event()

    def report():
        try:
            with transaction.atomic():
                CallFactory(phone_number=phone, started_at=NOW, external_id="live-1")
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=report)
    thread.start()
    assert inserted.wait(10)
    try:
        started = time.monotonic()
        [result] = services.calls_prune(workspace=workspace, batch_size=1)
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join(10)
    assert result.calls_deleted == 2
    assert list(Call.objects.values_list("external_id", flat=True)) == ["live-1"]


def test_a_slow_batch_halves_the_next(workspace, phone, monkeypatch):
    monkeypatch.setattr(services.retention, "PRUNE_BATCH_TARGET", 0.0)  # every batch counts as slow
    monkeypatch.setattr(services.retention, "PRUNE_MIN_BATCH", 2)
    _calls(phone, *range(400, 420))
    sizes = []
    services.calls_prune(
        workspace=workspace, now=NOW, batch_size=8, on_batch=lambda k, rows, s: sizes.append(rows)
    )
    assert sizes == [8, 4, 2, 2, 2, 2]
    assert not Call.objects.exists()
