import pytest
from django.urls import reverse

from jobs import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(workspace, owner):
    job = services.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "Callback", "instructions": "Ask for the name."},
    )
    return services.job_update(
        job=job, user=owner, data={"instructions": "Ask for the phone number."}
    )


def test_history_shows_readable_changes_and_restore_links(staff_client, job, owner):
    response = staff_client.get(reverse("admin:jobs_job_history", args=[job.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "<strong>instructions:</strong>" in text
    assert "name." in text and "phone number." in text  # removed and added words, not whole texts
    assert text.count("Restore this version") == 2
    assert owner.email in text and "edited" in text


def test_admin_restores_through_the_service(staff_client, staff, job):
    first = job.history.order_by("history_id").first()
    url = reverse("admin:jobs_job_restore_version", args=[job.pk, first.history_id])
    assert "Ask for the name." in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"revision": job.revision})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.instructions == "Ask for the name."
    latest = job.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("restored", staff)


def test_admin_restore_from_stale_page_changes_nothing(staff_client, job, owner):
    first = job.history.order_by("history_id").first()
    url = reverse("admin:jobs_job_restore_version", args=[job.pk, first.history_id])
    services.job_update(job=job, user=owner, data={"instructions": "Newest text."})
    response = staff_client.post(url, {"revision": 2}, follow=True)
    assert "changed since you opened this page" in response.content.decode()
    job.refresh_from_db()
    assert job.instructions == "Newest text."


def test_admin_restore_of_foreign_version_is_404(staff_client, job, workspace, owner):
    other = services.job_create(
        workspace=workspace, user=owner, data={"name": "Other", "instructions": "x"}
    )
    url = reverse("admin:jobs_job_restore_version", args=[job.pk, other.history.first().history_id])
    assert staff_client.get(url).status_code == 404


def test_non_staff_cannot_reach_admin_restore(owner_client, job):
    first = job.history.order_by("history_id").first()
    url = reverse("admin:jobs_job_restore_version", args=[job.pk, first.history_id])
    assert owner_client.post(url, {"revision": job.revision}).status_code == 302  # to admin login
    job.refresh_from_db()
    assert job.instructions == "Ask for the phone number."
