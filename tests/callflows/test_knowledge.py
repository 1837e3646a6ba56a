"""Knowledge pages on Sona steps: attach like jobs, publish freezes ids, the text stays live."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from callflows import live as live_module
from callflows import services
from callflows.models import MAX_KNOWLEDGE_PER_STEP, PublishedKnowledge, StepKind, StepKnowledge
from callflows.selectors import describe_changes
from callflows.snapshots import build_snapshot, callflow_draft_changes
from knowledge import services as ks
from tests.factories import KnowledgePageFactory
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_caches():
    cache.clear()
    live_module._bodies.clear()


def attached_titles(step):
    return list(
        StepKnowledge.objects.filter(step=step)
        .order_by("position")
        .values_list("page__title", flat=True)
    )


def test_attach_in_order_each_once(workspace, owner, sona):
    a, b = KnowledgePageFactory(workspace=workspace), KnowledgePageFactory(workspace=workspace)
    services.step_attach_knowledge(step=sona, page=a, user=owner)
    services.step_attach_knowledge(step=sona, page=b, user=owner)
    with pytest.raises(ValidationError, match="already attached"):
        services.step_attach_knowledge(step=sona, page=a, user=owner)
    assert attached_titles(sona) == [a.title, b.title]
    services.step_move_knowledge(step=sona, page=b, offset=-1, user=owner)
    assert attached_titles(sona) == [b.title, a.title]
    services.step_detach_knowledge(step=sona, page=b, user=owner)
    assert attached_titles(sona) == [a.title]
    with pytest.raises(ValidationError, match="not attached"):
        services.step_detach_knowledge(step=sona, page=b, user=owner)


def test_at_most_twenty_pages(workspace, owner, sona):
    pages = KnowledgePageFactory.create_batch(MAX_KNOWLEDGE_PER_STEP + 1, workspace=workspace)
    for page in pages[:-1]:
        services.step_attach_knowledge(step=sona, page=page, user=owner)
    with pytest.raises(ValidationError, match="at most 20 knowledge pages. Detach one before"):
        services.step_attach_knowledge(step=sona, page=pages[-1], user=owner)
    assert StepKnowledge.objects.filter(step=sona).count() == MAX_KNOWLEDGE_PER_STEP


def test_the_database_refuses_a_21st_page_and_a_page_twice(workspace, sona):
    page = KnowledgePageFactory(workspace=workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        StepKnowledge.objects.create(step=sona, page=page, position=21)
    StepKnowledge.objects.create(step=sona, page=page, position=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StepKnowledge.objects.create(step=sona, page=page, position=2)


def test_refusals_change_nothing(workspace, other_workspace, owner, phone, sona):
    foreign = KnowledgePageFactory(workspace=other_workspace)
    deleted = KnowledgePageFactory(workspace=workspace, deleted_at="2026-01-01T00:00:00Z")
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hi", user=owner
    )
    mine = KnowledgePageFactory(workspace=workspace)
    for step, page, message in [
        (sona, foreign, "another workspace"),
        (sona, deleted, "was deleted"),
        (greeting, mine, "only be attached to a Sona step"),
    ]:
        with pytest.raises(ValidationError, match=message):
            services.step_attach_knowledge(step=step, page=page, user=owner)
    assert not StepKnowledge.objects.exists()


def test_publish_freezes_ids_and_the_preview_lists_changes(workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    flow = phone.call_flow
    services.callflow_publish(call_flow=flow, user=owner)
    flow = type(flow).objects.get(pk=flow.pk)
    assert callflow_draft_changes(flow) == []  # no knowledge: snapshots as before
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    changes = describe_changes(workspace=workspace, changes=callflow_draft_changes(flow))
    assert [(c["kind"], c["page_names"]) for c in changes] == [("knowledge_attached", ["Prices"])]
    version = services.callflow_publish(call_flow=flow, user=owner)
    assert version.snapshot["steps"][0]["knowledge"] == [page.pk]
    assert list(PublishedKnowledge.objects.values_list("page_id", flat=True)) == [page.pk]
    services.step_detach_knowledge(step=sona, page=page, user=owner)
    flow = type(flow).objects.get(pk=flow.pk)
    kinds = [c["kind"] for c in callflow_draft_changes(flow)]
    assert kinds == ["knowledge_detached"]


def test_publish_preview_page_names_the_knowledge(owner_client, workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Opening hours")
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    body = owner_client.get(reverse("callflows:publish", args=[phone.pk])).content.decode()
    assert "Knowledge attached to “Sona”" in body and "Opening hours" in body


def test_a_live_page_cannot_be_deleted_and_names_the_number(workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with pytest.raises(ValidationError, match=r"live call flow of Main line \(\+1 555-555-0123\)"):
        ks.knowledge_page_delete(page=page, user=owner)
    page.refresh_from_db()
    assert not page.is_deleted and attached_titles(sona) == ["Prices"]
    with pytest.raises(ProtectedError):  # the database holds it too
        page.delete()


def test_a_draft_only_page_is_detached_on_delete_with_a_notice(workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    result = ks.knowledge_page_delete(page=page, user=owner)
    assert result.document.is_deleted and attached_titles(sona) == []
    assert result.notices == [
        "“Prices” was removed from the draft call flow of Main line (+15555550123)."
    ]


def test_publish_refuses_a_page_deleted_since_attaching(workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    # Deleted behind the services' back (a script): publish still refuses it.
    type(page).objects.filter(pk=page.pk).update(deleted_at="2026-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="“Prices” was deleted since"):
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert not phone.call_flow.versions.exists()


def test_rollback_brings_back_the_knowledge_of_the_version(workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace)
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_knowledge(step=sona, page=page, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    assert attached_titles(sona) == [page.title]  # the draft was clean: it follows
    assert build_snapshot(phone.call_flow)["steps"][0]["knowledge"] == [page.pk]


def test_a_deleted_numbers_page_may_go_but_the_number_is_restored_only_with_it(
    workspace, owner, phone, sona
):
    page = KnowledgePageFactory(workspace=workspace)
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.phone_number_delete(phone_number=phone, user=owner)
    # Its versions wait in Recently deleted with the number; the page is no longer live.
    assert PublishedKnowledge.objects.filter(page=page).exists()
    ks.knowledge_page_delete(page=page, user=owner)
    # Restoring the number would serve the deleted page: refused until the page is back.
    with pytest.raises(ValidationError, match="its live version uses “.*”, deleted since"):
        services.phone_number_restore(phone_number=phone, user=owner)
    ks.knowledge_page_restore(page=page, user=owner)
    services.phone_number_restore(phone_number=phone, user=owner)


# The runtime API --------------------------------------------------------------------------


def _live(client, number, token):
    return client.get(reverse("api:live", args=[number]), HTTP_AUTHORIZATION=f"Bearer {token}")


def test_api_serves_the_current_page_text_at_once(client, workspace, owner, phone, sona):
    token = api_token_create(workspace=workspace, name="rt", user=owner).raw
    page = ks.knowledge_page_create(
        workspace=workspace, user=owner, title="Prices", body="Emergency fee: $149."
    )
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    step = _live(client, phone.number, token).json()["steps"][0]
    assert step["knowledge"] == [{"id": page.pk, "title": "Prices", "body": "Emergency fee: $149."}]
    generation = type(phone).objects.get(pk=phone.pk).live_generation
    ks.knowledge_page_update(page=page, user=owner, title="Prices", body="Emergency fee: $159.")
    assert type(phone).objects.get(pk=phone.pk).live_generation == generation + 1
    step = _live(client, phone.number, token).json()["steps"][0]
    assert step["knowledge"][0]["body"] == "Emergency fee: $159."


def test_api_lists_no_knowledge_until_published(client, workspace, owner, phone, sona):
    token = api_token_create(workspace=workspace, name="rt", user=owner).raw
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_attach_knowledge(
        step=sona, page=KnowledgePageFactory(workspace=workspace), user=owner
    )
    assert _live(client, phone.number, token).json()["steps"][0]["knowledge"] == []


@pytest.mark.parametrize("with_jobs", [False, True])
@pytest.mark.usefixtures("long_lease")
def test_api_queries_stay_3_and_0_with_20_full_pages(
    client, workspace, owner, phone, sona, with_jobs, django_assert_num_queries
):
    from tests.factories import JobFactory

    token = api_token_create(workspace=workspace, name="rt", user=owner).raw
    for _ in range(MAX_KNOWLEDGE_PER_STEP):
        page = KnowledgePageFactory(workspace=workspace, body="x" * 20_000)
        services.step_attach_knowledge(step=sona, page=page, user=owner)
    if with_jobs:
        services.step_attach_job(step=sona, job=JobFactory(workspace=workspace), user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with django_assert_num_queries(3):  # lookup, number, jobs and pages in one UNION
        step = _live(client, phone.number, token).json()["steps"][0]
    assert len(step["knowledge"]) == 20 and len(step["knowledge"][0]["body"]) == 20_000
    assert len(step["jobs"]) == (1 if with_jobs else 0)
    if with_jobs:
        assert step["jobs"][0]["instructions"].startswith("1. Greet")
    with django_assert_num_queries(0):
        _live(client, phone.number, token)


# The panel --------------------------------------------------------------------------------


def test_panel_attach_and_detach_through_htmx(owner_client, workspace, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    url = reverse("callflows:knowledge_attach", args=[phone.pk, sona.pk])
    response = owner_client.post(url, {"page_id": page.pk}, HTTP_HX_REQUEST="true")
    assert "Attached “Prices”." in response.content.decode()
    assert attached_titles(sona) == ["Prices"]
    response = owner_client.post(url, {"page_id": page.pk}, HTTP_HX_REQUEST="true")
    assert "already attached" in response.content.decode()
    url = reverse("callflows:knowledge_detach", args=[phone.pk, sona.pk])
    response = owner_client.post(url, {"page_id": page.pk})
    assert response.status_code == 302 and attached_titles(sona) == []


def test_panel_refuses_another_workspaces_page_and_a_member(
    owner_client, workspace, other_workspace, phone, sona, member
):
    foreign = KnowledgePageFactory(workspace=other_workspace)
    url = reverse("callflows:knowledge_attach", args=[phone.pk, sona.pk])
    assert owner_client.post(url, {"page_id": foreign.pk}).status_code == 404
    owner_client.force_login(member)
    page = KnowledgePageFactory(workspace=workspace)
    assert owner_client.post(url, {"page_id": page.pk}).status_code == 403
    assert not StepKnowledge.objects.exists()


@pytest.mark.parametrize("count", [10, 1000])
def test_panel_queries_are_constant(
    owner_client, workspace, owner, phone, sona, count, django_assert_max_num_queries
):
    pages = KnowledgePageFactory.create_batch(count, workspace=workspace)
    for page in pages[:5]:
        services.step_attach_knowledge(step=sona, page=page, user=owner)
    with django_assert_max_num_queries(12):
        response = owner_client.get(reverse("callflows:step_knowledge", args=[phone.pk, sona.pk]))
    assert response.status_code == 200
