"""Staff restore an older version of a job or a knowledge page from the admin: one shared
document admin, so one test over both kinds."""

import pytest
from django.urls import reverse

from jobs import services as jobs
from knowledge import services as knowledge

pytestmark = pytest.mark.django_db


def _job(workspace, owner):
    job = jobs.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "Callback", "instructions": "Ask for the name."},
    )
    job = jobs.job_update(job=job, user=owner, data={"instructions": "Ask for the phone number."})
    return job, "jobs_job", "instructions", "Ask for the name."


def _page(workspace, owner):
    page = knowledge.knowledge_page_create(
        workspace=workspace, user=owner, title="Prices", body="Fee $149"
    )
    page = knowledge.knowledge_page_update(page=page, user=owner, title="Prices", body="Fee $159")
    return page, "knowledge_knowledgepage", "body", "Fee $149"


@pytest.mark.parametrize("make", [_job, _page], ids=["job", "page"])
def test_staff_restore_a_version_through_the_service(staff_client, staff, workspace, owner, make):
    document, admin_name, field, old_text = make(workspace, owner)
    first = document.history.order_by("history_id").first()
    history = reverse(f"admin:{admin_name}_history", args=[document.pk])
    assert "Restore this version" in staff_client.get(history).content.decode()
    url = reverse(f"admin:{admin_name}_restore_version", args=[document.pk, first.history_id])
    assert old_text in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"revision": document.revision})
    assert response.status_code == 302
    document.refresh_from_db()
    assert getattr(document, field) == old_text
    latest = document.history.order_by("-history_id").first()
    assert (latest.history_change_reason, latest.history_user) == ("restored", staff)
