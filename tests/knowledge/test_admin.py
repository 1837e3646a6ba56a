import pytest
from django.urls import reverse

from callflows import services as cf
from knowledge.models import KnowledgePage
from tests.factories import KnowledgePageFactory

pytestmark = pytest.mark.django_db


def test_staff_create_and_edit_through_the_services(staff_client, staff, workspace):
    response = staff_client.post(
        reverse("admin:knowledge_knowledgepage_add"),
        {"workspace": workspace.pk, "title": "Prices", "body": "Fee $149"},
    )
    assert response.status_code == 302
    page = KnowledgePage.objects.get()
    assert page.history.get().history_user == staff and page.created_by == staff
    url = reverse("admin:knowledge_knowledgepage_change", args=[page.pk])
    staff_client.post(url, {"title": "Prices", "body": "Fee $159", "revision": page.revision})
    page.refresh_from_db()
    assert page.body == "Fee $159" and page.revision == 2


def test_staff_edit_over_the_limit_or_stale_is_a_form_error(staff_client, workspace):
    page = KnowledgePageFactory(workspace=workspace)
    url = reverse("admin:knowledge_knowledgepage_change", args=[page.pk])
    response = staff_client.post(url, {"title": "T", "body": "x" * 20_001, "revision": 1})
    assert response.status_code == 200 and "at most 20000 characters" in response.content.decode()
    response = staff_client.post(url, {"title": "T", "body": "B", "revision": 7})
    assert "changed by someone else" in response.content.decode()
    page.refresh_from_db()
    assert page.revision == 1


def test_staff_delete_of_a_live_page_is_refused(staff_client, workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    cf.step_attach_knowledge(step=sona, page=page, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    url = reverse("admin:knowledge_knowledgepage_delete", args=[page.pk])
    response = staff_client.post(url, {"post": "yes"})
    # The admin sees the PROTECTed published use and refuses before any service runs.
    assert "protected" in response.content.decode()
    page.refresh_from_db()
    assert not page.is_deleted


def test_changelist_and_history_render(staff_client, workspace):
    page = KnowledgePageFactory(workspace=workspace)
    assert staff_client.get(reverse("admin:knowledge_knowledgepage_changelist")).status_code == 200
    url = reverse("admin:knowledge_knowledgepage_history", args=[page.pk])
    assert staff_client.get(url).status_code == 200
