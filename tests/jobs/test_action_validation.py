"""Saving a job with a broken action marker is refused on every path, quoting the marker."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs import services as js
from jobs.models import Job
from tests.factories import JobFactory, MembershipFactory, PhoneNumberFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

BAD_MEMBER = "[[Transfer call: member nobody@example.test]]"
BAD_NUMBER = "[[Transfer call: number +15555550999]]"
BAD_EXTERNAL = "[[Transfer call: external 12345]]"
MALFORMED = "[[Transfer call: Maria Lopez]]"


@pytest.fixture
def rosa(workspace):
    return MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user__email="rosa@example.test"
    ).user


@pytest.fixture
def line(workspace):
    return PhoneNumberFactory(workspace=workspace, number="+15555550100")


def texts(instructions, name="Escalate"):
    return {"name": name, "description": "", "trigger": "", "instructions": instructions}


def state():
    return list(Job.objects.order_by("pk").values()), Job.history.count()


@pytest.mark.parametrize(
    ("marker", "words"),
    [
        (BAD_MEMBER, "no member of this workspace has the email nobody@example.test"),
        (BAD_NUMBER, "+15555550999 is not one of this workspace's phone numbers"),
        (BAD_EXTERNAL, "is not a phone number"),
        (MALFORMED, "say whom to transfer to"),
        ("[[Send SMS: unclosed", "not closed"),
    ],
)
def test_create_and_update_refuse_a_bad_marker(workspace, owner, rosa, line, marker, words):
    job = JobFactory(workspace=workspace)
    before = state()
    with pytest.raises(ValidationError) as refused:
        js.job_create(workspace=workspace, user=owner, data=texts(f"1. Then {marker}"))
    (message,) = refused.value.message_dict["instructions"]
    assert message.startswith(f"“{marker}") and words in message
    with pytest.raises(ValidationError) as refused:
        js.job_update(job=job, user=owner, data={"instructions": f"Say hi. {marker}"})
    assert words in refused.value.message_dict["instructions"][0]
    assert state() == before


def test_good_targets_are_saved(workspace, owner, rosa, line):
    text = (
        "[[Transfer call: member Rosa@example.test | say: Let me get Rosa]] "
        "[[Transfer call: number (555) 555-0100]] [[Transfer call: external +44 20 7946 0958]] "
        "[[Send SMS: Thanks!]]"
    )
    job = js.job_create(workspace=workspace, user=owner, data=texts(text))
    assert job.instructions == text  # kept as written


def test_another_workspaces_member_and_number_are_missing(workspace, other_workspace, owner):
    MembershipFactory(workspace=other_workspace, user__email="elsewhere@example.test")
    PhoneNumberFactory(workspace=other_workspace, number="+15555550177")
    for marker in (
        "[[Transfer call: member elsewhere@example.test]]",
        "[[Transfer call: number +15555550177]]",
    ):
        with pytest.raises(ValidationError):
            js.job_create(workspace=workspace, user=owner, data=texts(marker))


def test_restore_version_and_restore_deleted_are_checked(workspace, owner, rosa):
    from workspaces.services import membership_remove

    marker = "[[Transfer call: member rosa@example.test]]"
    deleted = js.job_create(workspace=workspace, user=owner, data=texts(marker, name="Gone"))
    js.job_delete(job=deleted, user=owner)
    edited = js.job_create(workspace=workspace, user=owner, data=texts(marker, name="Edited"))
    old = edited.history.order_by("history_id").first()
    edited = js.job_update(job=edited, user=owner, data={"instructions": "No transfer."})
    membership_remove(membership=rosa.memberships.get(), user=owner)  # no live job names her
    with pytest.raises(ValidationError, match="no member of this workspace"):
        js.job_restore_deleted(job=deleted, user=owner)
    with pytest.raises(ValidationError, match="no member of this workspace"):
        js.job_restore_version(job=edited, version=old, user=owner)
    assert Job.objects.get(pk=deleted.pk).deleted_at is not None
    assert Job.objects.get(pk=edited.pk).instructions == "No transfer."


def test_optimize_checks_the_unsaved_text(workspace, owner):
    job = JobFactory(workspace=workspace)
    before = state()
    with pytest.raises(ValidationError, match="nobody@example.test"):
        js.job_optimize(job=job, user=owner, unsaved={"instructions": f"Transfer. {BAD_MEMBER}"})
    assert state() == before


def test_a_marker_free_save_costs_no_context_queries(workspace, owner, line):
    job = JobFactory(workspace=workspace)
    with CaptureQueriesContext(connection) as plain:
        js.job_update(job=job, user=owner, data={"instructions": "Plain text."})
    with CaptureQueriesContext(connection) as marked:
        js.job_update(job=job, user=owner, data={"instructions": "[[Send SMS: Hi]]"})
    assert len(marked) == len(plain) + 2  # members, numbers


# Pages, admin, command --------------------------------------------------------------------


def test_editor_page_shows_the_refusal(owner_client, workspace, rosa):
    job = JobFactory(workspace=workspace)
    response = owner_client.post(
        reverse("jobs:edit", args=[job.pk]), {**texts(BAD_MEMBER), "revision": job.revision}
    )
    assert response.status_code == 200
    assert "no member of this workspace has the email nobody@example.test" in response.text
    assert Job.objects.get(pk=job.pk).instructions == job.instructions


def test_editor_offers_insert_action_with_members_and_numbers(owner_client, workspace, rosa, line):
    text = owner_client.get(reverse("jobs:create")).text
    assert ">Insert action</button>" in text
    assert 'value="member rosa@example.test"' in text and 'value="number +15555550100"' in text
    assert '<label for="action-transfer-to">Transfer to</label>' in text
    assert '<label for="action-sms-message">Message</label>' in text


def test_admin_add_refuses(staff_client, workspace):
    before = state()
    response = staff_client.post(
        reverse("admin:jobs_job_add"),
        {"workspace": workspace.pk, **texts(BAD_NUMBER), "revision": "", "_save": "Save"},
    )
    assert response.status_code == 200
    assert "+15555550999 is not one of this workspace" in response.text
    assert state() == before


def test_import_refuses_the_whole_file_naming_the_record(tmp_path, workspace, owner, rosa):
    good = {**texts("[[Transfer call: member rosa@example.test]]", name="Good")}
    bad = {**texts(f"Hand over. {BAD_EXTERNAL}", name="Bad")}
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    before = state()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_jobs",
            "--workspace",
            workspace.slug,
            "--user",
            owner.email,
            str(path),
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert "record 2 ('Bad'), field 'instructions'" in str(refused.value)
    assert f"“{BAD_EXTERNAL}”" in str(refused.value)
    assert state() == before


def test_import_reads_members_and_numbers_once(workspace, owner, rosa, line):
    def records(n):
        return [
            texts(f"[[Transfer call: member rosa@example.test]] {i}", name=f"Job {i}")
            for i in range(n)
        ]

    counts = []
    for n in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            js.job_import(workspace=workspace, user=owner, records=records(n), dry_run=True)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Removal refusals -------------------------------------------------------------------------


def test_removing_a_member_a_transfer_names_is_refused(workspace, owner, rosa):
    from workspaces.services import membership_remove

    js.job_create(
        workspace=workspace,
        user=owner,
        data=texts("[[Transfer call: member ROSA@example.test]]", name="To Rosa"),
    )
    membership = rosa.memberships.get()
    with pytest.raises(ValidationError, match="rosa@example.test cannot be removed: “To Rosa”"):
        membership_remove(membership=membership, user=owner)
    assert rosa.memberships.exists()


def test_a_deleted_job_does_not_block_removal(workspace, owner, rosa):
    from workspaces.services import membership_remove

    job = js.job_create(
        workspace=workspace, user=owner, data=texts("[[Transfer call: member rosa@example.test]]")
    )
    js.job_delete(job=job, user=owner)
    membership_remove(membership=rosa.memberships.get(), user=owner)
    assert not rosa.memberships.exists()


def test_members_page_shows_the_refusal(owner_client, workspace, owner, rosa):
    js.job_create(
        workspace=workspace,
        user=owner,
        data=texts("[[Transfer call: member rosa@example.test]]", name="To Rosa"),
    )
    membership = rosa.memberships.get()
    response = owner_client.post(
        reverse("workspaces:remove", args=[membership.pk]), {"confirm": "yes"}, follow=True
    )
    assert "cannot be removed: “To Rosa” transfer calls to them" in response.text
    assert rosa.memberships.exists()
