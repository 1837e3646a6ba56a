import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from callflows import services as cf
from knowledge import services
from knowledge.models import KnowledgePage
from tests.conftest import messages_of
from tests.factories import KnowledgePageFactory
from tests.knowledge.pdfs import encrypted_pdf
from workspaces.models import ImportRun

pytestmark = pytest.mark.django_db

R, A = '<span class="sr-only">removed: </span>', '<span class="sr-only">added: </span>'


def test_nav_links_to_the_library(owner_client):
    body = owner_client.get(reverse("jobs:list")).content.decode()
    icon = '<span class="icon icon-knowledge" aria-hidden="true"></span>'
    assert re.search(rf'href="{reverse("knowledge:list")}">{icon}\s*Knowledge</a>', body)


@pytest.mark.parametrize("count", [10, 1000])
def test_library_queries_are_constant(
    owner_client, workspace, count, django_assert_max_num_queries
):
    KnowledgePageFactory.create_batch(count, workspace=workspace)
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("knowledge:list"))
    body = response.content.decode()
    assert f"{count} pages" in body and body.count('href="/knowledge/') >= 10
    for name in ("New page", "Upload files", "Import from website"):
        assert f">{name}</a>" in body


def test_library_shows_only_this_workspaces_pages(owner_client, workspace, other_workspace):
    KnowledgePageFactory(workspace=workspace, title="Ours")
    KnowledgePageFactory(workspace=other_workspace, title="Theirs")
    body = owner_client.get(reverse("knowledge:list")).content.decode()
    assert "Ours" in body and "Theirs" not in body


def test_new_page_has_counters_and_saves(owner_client, owner):
    body = owner_client.get(reverse("knowledge:create")).content.decode()
    assert 'data-limit="200"' in body and 'data-limit="20000"' in body
    assert (
        '<label for="id_title">Title</label>' in body
        and '<label for="id_body">Body</label>' in body
    )
    response = owner_client.post(
        reverse("knowledge:create"), {"title": "Prices", "body": "Fee:\r\n$149"}
    )
    page = KnowledgePage.objects.get()
    assert response.url == page.get_absolute_url() and page.body == "Fee:\n$149"
    assert page.history.get().history_user == owner


def test_new_page_errors_save_nothing(owner_client):
    response = owner_client.post(reverse("knowledge:create"), {"title": "", "body": "x" * 20_001})
    body = response.content.decode()
    assert response.status_code == 200 and "This field is required." in body
    assert "at most 20000 characters" in body
    assert not KnowledgePage.objects.exists()


def test_member_cannot_write(member_client, workspace):
    page = KnowledgePageFactory(workspace=workspace)
    assert member_client.get(reverse("knowledge:detail", args=[page.pk])).status_code == 200
    response = member_client.post(reverse("knowledge:create"), {"title": "T", "body": "B"})
    assert response.status_code == 403 and KnowledgePage.objects.count() == 1


def test_edit_with_a_stale_revision_shows_the_conflict(owner_client, workspace, owner):
    page = services.knowledge_page_create(workspace=workspace, user=owner, title="P", body="One")
    services.knowledge_page_update(page=page, user=owner, title="P", body="Theirs")
    url = reverse("knowledge:edit", args=[page.pk])
    response = owner_client.post(url, {"title": "P", "body": "Mine", "revision": 1})
    body = response.content.decode()
    assert response.status_code == 409 and "changed by someone else" in body and "Mine" in body
    page.refresh_from_db()
    assert page.body == "Theirs"
    # Saving again from the conflict page (it carries the current revision) overwrites knowingly.
    response = owner_client.post(url, {"title": "P", "body": "Mine", "revision": page.revision})
    page.refresh_from_db()
    assert response.status_code == 302 and page.body == "Mine"


def test_edit_without_a_revision_is_refused(owner_client, workspace, owner):
    page = services.knowledge_page_create(workspace=workspace, user=owner, title="P", body="One")
    response = owner_client.post(
        reverse("knowledge:edit", args=[page.pk]), {"title": "P", "body": "X"}
    )
    assert "did not say which version" in response.content.decode()
    page.refresh_from_db()
    assert page.body == "One"


def test_history_compare_and_restore_version(owner_client, workspace, owner):
    page = services.knowledge_page_create(
        workspace=workspace, user=owner, title="P", body="old fee"
    )
    page = services.knowledge_page_update(page=page, user=owner, title="P", body="new fee")
    first, second = page.history.order_by("history_id")
    body = owner_client.get(reverse("knowledge:history", args=[page.pk])).content.decode()
    assert "Restore version 1" in body
    url = (
        reverse("knowledge:compare", args=[page.pk])
        + f"?a={first.history_id}&b={second.history_id}"
    )
    body = owner_client.get(url).content.decode()
    assert f"<del>{R}old </del><ins>{A}new </ins>fee" in body
    side = owner_client.get(url + "&view=side").content.decode()
    assert f"<del>{R}old </del>fee</pre>" in side and f"<ins>{A}new </ins>fee</pre>" in side
    url = reverse("knowledge:version_restore", args=[page.pk, first.history_id])
    owner_client.post(url, {"revision": page.revision})
    page.refresh_from_db()
    assert page.body == "old fee" and page.history.count() == 3


def test_delete_of_a_live_page_is_refused_with_the_number(
    owner_client, workspace, owner, phone, sona
):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    cf.step_attach_knowledge(step=sona, page=page, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    response = owner_client.post(reverse("knowledge:delete", args=[page.pk]))
    assert any("live call flow of Main line (+1 555-555-0123)" in m for m in messages_of(response))
    page.refresh_from_db()
    assert not page.is_deleted


def test_delete_detaches_drafts_with_a_notice_and_restore(owner_client, workspace, owner, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    cf.step_attach_knowledge(step=sona, page=page, user=owner)
    response = owner_client.post(reverse("knowledge:delete", args=[page.pk]))
    assert (
        "“Prices” was removed from the draft call flow of Main line (+15555550123)."
        in messages_of(response)
    )
    assert "Prices" in owner_client.get(reverse("knowledge:deleted")).content.decode()
    owner_client.post(reverse("knowledge:restore", args=[page.pk]))
    page.refresh_from_db()
    assert not page.is_deleted


def test_upload_creates_pages(owner_client):
    files = [
        SimpleUploadedFile("hours.md", b"# Hours\n\nMon-Fri 9-5", "text/markdown"),
        SimpleUploadedFile("long.txt", "\n\n".join(["fact " * 1999] * 5).encode(), "text/plain"),
    ]
    response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    assert response.status_code == 302
    assert sorted(KnowledgePage.objects.values_list("title", flat=True)) == [
        "hours",
        "long (part 1 of 3)",
        "long (part 2 of 3)",
        "long (part 3 of 3)",
    ]
    assert "4 pages created." in messages_of(response)


def test_upload_of_a_bad_file_creates_nothing(owner_client):
    files = [
        SimpleUploadedFile("hours.md", b"Mon-Fri 9-5"),
        SimpleUploadedFile("secret.pdf", encrypted_pdf()),
    ]
    response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    body = response.content.decode()
    assert (
        response.status_code == 200
        and "Nothing was imported. secret.pdf: the PDF is encrypted" in body
    )
    assert not KnowledgePage.objects.exists()


def test_import_url_refuses_a_private_address(
    owner_client, settings, django_capture_on_commit_callbacks
):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("knowledge:import_url"), {"url": "http://127.0.0.1:9/"}
        )
    # The fetch runs in the background: the import's page shows the refusal.
    assert response.status_code == 302
    body = owner_client.get(response.url).content.decode()
    assert "private, loopback or link-local" in body
    assert not KnowledgePage.objects.exists()


def test_import_url_refuses_a_bad_address_at_once(owner_client):
    response = owner_client.post(reverse("knowledge:import_url"), {"url": "http://exa mple/"})
    assert response.status_code == 200 and "Enter a valid URL." in response.content.decode()
    assert not ImportRun.objects.exists()
