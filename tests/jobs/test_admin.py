"""The support admin for jobs and templates: every write goes through jobs.services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs.models import Job, JobTemplate
from jobs.services import job_delete, job_update
from tests.conftest import messages_of
from tests.factories import JobFactory, JobTemplateFactory, WorkspaceFactory, owner_of
from workspaces.permissions import staff_support

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_job_changelist")
ADD = reverse("admin:jobs_job_add")
STALE = "This job was changed by someone else since you opened it."


def change_url(job):
    return reverse("admin:jobs_job_change", args=[job.pk])


def form_data(job, **changes):
    """The change form as the admin renders it (workspace is read-only there)."""
    data = {**job.text_fields(), "revision": job.revision, "_save": "Save"}
    return {**data, **changes}


def state(job):
    """What a refused change must leave untouched."""
    job.refresh_from_db()
    return job.text_fields(), job.revision, job.updated_by_id, job.history.count()


# Pages -----------------------------------------------------------------------------------


def test_pages_answer(staff_client, workspace):
    job = JobFactory(workspace=workspace)

    for url in (
        CHANGELIST,
        ADD,
        change_url(job),
        reverse("admin:jobs_job_history", args=[job.pk]),
        reverse("admin:jobs_job_delete", args=[job.pk]),
        reverse("admin:jobs_jobtemplate_changelist"),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_pages_need_staff(member_client, workspace):
    job = JobFactory(workspace=workspace)

    response = member_client.get(change_url(job))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_change_page_carries_the_revision(staff_client, workspace):
    job = job_update(
        job=JobFactory(workspace=workspace), user=owner_of(workspace), data={"description": "v2"}
    )

    response = staff_client.get(change_url(job))

    assert response.context["adminform"].form["revision"].value() == 2
    assert 'name="revision" value="2"' in response.content.decode()


def test_history_page_lists_the_reasons(staff_client, workspace, staff):
    job = JobFactory(workspace=workspace)
    with staff_support(staff):  # what the admin's change form does
        job_update(job=job, user=staff, data={"description": "Changed"})

    response = staff_client.get(reverse("admin:jobs_job_history", args=[job.pk]))

    assert response.status_code == 200
    assert "edited" in response.content.decode()


def results(response):
    return sorted(job.name for job in response.context["cl"].result_list)


def test_changelist_search(staff_client, workspace, other_workspace):
    JobFactory(workspace=workspace, name="Book a table")
    JobFactory(workspace=workspace, name="Take a message", trigger="Caller wants to book later")
    JobFactory(workspace=other_workspace, name="Other")

    assert results(staff_client.get(CHANGELIST, {"q": "book"})) == [
        "Book a table",
        "Take a message",
    ]
    assert results(staff_client.get(CHANGELIST, {"q": other_workspace.slug})) == ["Other"]


def test_changelist_workspace_filter(staff_client, workspace, other_workspace):
    JobFactory(workspace=workspace, name="Ours")
    JobFactory(workspace=other_workspace, name="Theirs")

    response = staff_client.get(CHANGELIST, {"workspace__id__exact": other_workspace.pk})

    assert results(response) == ["Theirs"]


def test_changelist_status_filter(staff_client, workspace):
    JobFactory(workspace=workspace, name="Live")
    job_delete(job=JobFactory(workspace=workspace, name="Gone"), user=owner_of(workspace))

    assert results(staff_client.get(CHANGELIST, {"status": "live"})) == ["Live"]
    assert results(staff_client.get(CHANGELIST, {"status": "deleted"})) == ["Gone"]
    assert results(staff_client.get(CHANGELIST)) == ["Gone", "Live"]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_changelist_query_count_does_not_grow_with_jobs(staff_client, staff):
    workspaces = WorkspaceFactory.create_batch(3)
    for index in range(5):
        JobFactory(workspace=workspaces[index % 3], updated_by=staff)
    staff_client.get(CHANGELIST)  # warm caches (content types, session)
    small = count_queries(staff_client, CHANGELIST)

    for index in range(55):
        JobFactory(workspace=workspaces[index % 3], updated_by=staff)
    large = count_queries(staff_client, CHANGELIST)

    assert large == small
    assert small <= 10


# Add -------------------------------------------------------------------------------------


def add_data(workspace, **changes):
    data = {
        "workspace": workspace.pk,
        "name": "Take a booking",
        "description": "Books a table.",
        "trigger": "Caller wants a table.",
        "instructions": "1. Ask for the date.\n2. Confirm.",
        "revision": "",
        "_save": "Save",
    }
    return {**data, **changes}


def test_add_goes_through_the_service(staff_client, staff, workspace):
    response = staff_client.post(ADD, add_data(workspace))

    assert response.status_code == 302
    job = Job.objects.get(workspace=workspace)
    assert job.name == "Take a booking"
    assert job.instructions == "1. Ask for the date.\n2. Confirm."
    assert job.created_by == staff and job.updated_by == staff
    assert job.revision == 1
    entry = job.history.get()
    assert entry.history_user == staff
    assert entry.history_change_reason == "created"


def test_add_with_an_over_limit_name_creates_nothing(staff_client, workspace):
    response = staff_client.post(ADD, add_data(workspace, name="x" * 101))

    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
    assert not Job.objects.exists()


def test_add_with_a_duplicate_name_is_refused(staff_client, workspace):
    JobFactory(workspace=workspace, name="Take a Booking")

    response = staff_client.post(ADD, add_data(workspace, name="take a booking"))

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Job.objects.count() == 1


# Change ----------------------------------------------------------------------------------


def test_change_goes_through_the_service(staff_client, staff, workspace):
    job = JobFactory(workspace=workspace)
    history_before = job.history.count()

    response = staff_client.post(change_url(job), form_data(job, description="Better words."))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.description == "Better words."
    assert job.revision == 2
    assert job.updated_by == staff
    assert job.workspace == workspace
    assert job.history.count() == history_before + 1
    latest = job.history.first()
    assert latest.history_change_reason == "edited"
    assert latest.history_user == staff


def test_change_cannot_move_a_job_to_another_workspace(staff_client, workspace, other_workspace):
    job = JobFactory(workspace=workspace)

    staff_client.post(change_url(job), form_data(job, workspace=other_workspace.pk, trigger="New"))

    job.refresh_from_db()
    assert job.workspace == workspace
    assert job.trigger == "New"


def test_saving_without_changes_adds_no_version(staff_client, workspace):
    job = JobFactory(workspace=workspace)
    before = state(job)

    response = staff_client.post(change_url(job), form_data(job))

    assert response.status_code == 302
    assert state(job) == before


def test_change_with_an_over_limit_name_changes_nothing(staff_client, workspace):
    job = JobFactory(workspace=workspace)
    before = state(job)

    response = staff_client.post(change_url(job), form_data(job, name="x" * 101, trigger="New"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]
    assert state(job) == before


def test_change_with_over_limit_instructions_changes_nothing(staff_client, workspace):
    job = JobFactory(workspace=workspace)
    before = state(job)

    response = staff_client.post(change_url(job), form_data(job, instructions="x" * 10_001))

    assert response.status_code == 200
    assert "instructions" in response.context["adminform"].form.errors
    assert state(job) == before


def test_change_to_a_duplicate_name_is_refused(staff_client, workspace):
    JobFactory(workspace=workspace, name="Take a Booking")
    job = JobFactory(workspace=workspace, name="Other")
    before = state(job)

    response = staff_client.post(change_url(job), form_data(job, name="take a booking"))

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert state(job) == before


def test_change_to_a_name_used_in_another_workspace_works(staff_client, workspace, other_workspace):
    JobFactory(workspace=other_workspace, name="Take a Booking")
    job = JobFactory(workspace=workspace, name="Other")

    response = staff_client.post(change_url(job), form_data(job, name="take a booking"))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.name == "take a booking"


def test_change_from_a_stale_copy_is_refused(staff_client, staff, workspace):
    job = job_update(
        job=JobFactory(workspace=workspace), user=owner_of(workspace), data={"description": "v2"}
    )
    before = state(job)

    response = staff_client.post(
        change_url(job), form_data(job, revision=job.revision - 1, description="Overwrite!")
    )

    assert response.status_code == 200
    assert STALE in response.content.decode()
    assert STALE in " ".join(response.context["adminform"].form.non_field_errors())
    assert state(job) == before


# Delete and restore ----------------------------------------------------------------------


def test_delete_is_a_soft_delete(staff_client, staff, workspace):
    job = JobFactory(workspace=workspace)

    response = staff_client.post(reverse("admin:jobs_job_delete", args=[job.pk]), {"post": "yes"})

    assert response.status_code == 302
    job = Job.objects.get(pk=job.pk)
    assert job.deleted_at is not None
    assert job.revision == 2
    latest = job.history.first()
    assert latest.history_change_reason == "deleted"
    assert latest.history_user == staff


def test_bulk_delete_is_a_soft_delete(staff_client, workspace):
    jobs = JobFactory.create_batch(2, workspace=workspace)

    response = staff_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [j.pk for j in jobs], "post": "yes"},
    )

    assert response.status_code == 302
    assert Job.objects.filter(deleted_at__isnull=False).count() == 2
    assert {j.history.first().history_change_reason for j in jobs} == {"deleted"}


def test_restore_selected_restores_deleted_jobs(staff_client, staff, workspace):
    gone = job_delete(
        job=JobFactory(workspace=workspace, name="Gone"), user=owner_of(workspace)
    ).document
    live = JobFactory(workspace=workspace, name="Live")
    live_before = state(live)

    response = staff_client.post(
        CHANGELIST,
        {"action": "restore_selected", "_selected_action": [gone.pk, live.pk]},
        follow=True,
    )

    assert "Restored 1 job(s)." in messages_of(response)
    gone.refresh_from_db()
    assert gone.deleted_at is None
    assert gone.revision == 3
    latest = gone.history.first()
    assert latest.history_change_reason == "restored"
    assert latest.history_user == staff
    assert state(live) == live_before


def test_restore_refused_when_the_name_is_taken_again(staff_client, workspace):
    gone = job_delete(
        job=JobFactory(workspace=workspace, name="Booking"), user=owner_of(workspace)
    ).document
    JobFactory(workspace=workspace, name="BOOKING")

    response = staff_client.post(
        CHANGELIST, {"action": "restore_selected", "_selected_action": [gone.pk]}, follow=True
    )

    shown = messages_of(response)
    assert "Booking: Another job is already called “Booking”. Rename that job first." in shown
    assert "Restored 0 job(s)." in shown
    gone.refresh_from_db()
    assert gone.deleted_at is not None
    assert gone.revision == 2


# Templates -------------------------------------------------------------------------------


def builtin():
    template = JobTemplate.objects.filter(workspace__isnull=True).first()
    assert template is not None, "built-in templates are created by migrate"
    return template


def test_builtin_template_change_page_is_read_only(staff_client):
    template = builtin()
    url = reverse("admin:jobs_jobtemplate_change", args=[template.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="name"' not in response.content.decode()


def test_builtin_template_cannot_be_changed(staff_client):
    template = builtin()
    before = template.text_fields()

    response = staff_client.post(
        reverse("admin:jobs_jobtemplate_change", args=[template.pk]),
        {**before, "name": "Hijacked", "workspace": "", "_save": "Save"},
    )

    assert response.status_code == 403
    template.refresh_from_db()
    assert template.text_fields() == before


def test_builtin_template_cannot_be_deleted(staff_client):
    template = builtin()
    url = reverse("admin:jobs_jobtemplate_delete", args=[template.pk])

    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert JobTemplate.objects.filter(pk=template.pk).exists()


def test_builtin_template_cannot_be_bulk_deleted(staff_client, workspace):
    template = builtin()
    own = JobTemplateFactory(workspace=workspace)

    response = staff_client.post(
        reverse("admin:jobs_jobtemplate_changelist"),
        {"action": "delete_selected", "_selected_action": [template.pk, own.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert JobTemplate.objects.filter(pk__in=[template.pk, own.pk]).count() == 2


def test_workspace_template_can_be_changed_and_deleted(staff_client, workspace):
    template = JobTemplateFactory(workspace=workspace)
    change = reverse("admin:jobs_jobtemplate_change", args=[template.pk])
    delete = reverse("admin:jobs_jobtemplate_delete", args=[template.pk])

    response = staff_client.post(
        change,
        {**template.text_fields(), "workspace": workspace.pk, "name": "Renamed", "_save": "1"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Renamed"

    assert staff_client.get(delete).status_code == 200
    assert staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert not JobTemplate.objects.filter(pk=template.pk).exists()


def test_jobs_keep_their_template_name_when_it_is_deleted(staff_client, workspace):
    template = JobTemplateFactory(workspace=workspace, name="Starter")
    job = JobFactory(workspace=workspace, template=template, template_name="Starter")

    staff_client.post(reverse("admin:jobs_jobtemplate_delete", args=[template.pk]), {"post": "yes"})

    job.refresh_from_db()
    assert job.template is None
    assert job.template_name == "Starter"
