"""Where a job or knowledge page is used: its detail page and its delete page."""

import pytest
from django.urls import reverse

from callflows import services as cf
from jobs.models import Job
from knowledge.models import KnowledgePage
from tests.conftest import sona_of
from tests.factories import JobFactory, KnowledgePageFactory


def _numbers(workspace, owner, count, *, thing, start=0, publish=True):
    """`count` numbers whose Sona step uses `thing`, published (live) or not (draft only)."""
    phones = []
    for i in range(start, start + count):
        phone = cf.phone_number_create(
            workspace=workspace, number=f"+1555555{i:04d}", display_name=f"Line {i}", user=owner
        )
        step = sona_of(phone)
        if isinstance(thing, Job):
            cf.step_attach_job(step=step, job=thing, user=owner)
        else:
            cf.step_attach_knowledge(step=step, page=thing, user=owner)
        if publish:
            cf.callflow_publish(call_flow=phone.call_flow, user=owner)
        phones.append(phone)
    return phones


def test_job_page_lists_live_and_draft_uses_with_links(owner_client, workspace, owner, phone, sona):
    job = JobFactory(workspace=workspace, name="Booking")
    cf.step_attach_job(step=sona, job=job, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    cf.step_update(step=sona, user=owner, name="Front desk", settings=sona.settings)
    body = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Where it is used" in body
    live, draft = body.split("<h3>Live</h3>")[1].split("<h3>Draft</h3>")
    # The live version still calls the step "Sona"; the draft renamed it.
    assert "step “Sona”" in live and "step “Front desk”" in draft
    editor = reverse("callflows:editor", args=[phone.pk])
    panel = reverse("callflows:step_jobs", args=[phone.pk, sona.pk])
    assert f'href="{editor}">Main line</a>' in live and f'href="{panel}"' in live
    assert f'href="{editor}">Main line</a>' in draft and f'href="{panel}"' in draft
    assert "+15555550123" not in body.split("Where it is used")[1].split("</section>")[0]


def test_unused_job_says_how_to_use_it(owner_client, workspace):
    job = JobFactory(workspace=workspace)
    body = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "No call flow uses this job yet." in body


def test_where_used_escapes_names(owner_client, workspace, owner, phone, sona):
    job = JobFactory(workspace=workspace)
    cf.phone_number_rename(phone_number=phone, display_name="<b>Evil</b>", user=owner)
    cf.step_attach_job(step=sona, job=job, user=owner)
    body = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "&lt;b&gt;Evil&lt;/b&gt;" in body and "<b>Evil</b>" not in body


def test_another_workspaces_uses_are_not_shown(owner_client, workspace, other_workspace):
    job = JobFactory(workspace=workspace)
    # A foreign step cannot legally hold our job; build the row directly to prove the scoping.
    from callflows.models import StepJob
    from tests.factories import SonaStepFactory

    foreign = SonaStepFactory(call_flow__phone_number__workspace=other_workspace)
    StepJob.objects.create(step=foreign, job=job, position=1)
    body = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert foreign.call_flow.phone_number.display_name not in body
    assert "No call flow uses this job yet." in body


@pytest.mark.parametrize("kind", ["job", "page"])
def test_detail_queries_do_not_grow_with_uses(
    kind, owner_client, workspace, owner, django_assert_max_num_queries
):
    def make():
        if kind == "job":
            return JobFactory(workspace=workspace), "jobs:detail"
        return KnowledgePageFactory(workspace=workspace), "knowledge:detail"

    few, url = make()
    many, _ = make()
    _numbers(workspace, owner, 1, thing=few)
    _numbers(workspace, owner, 6, thing=many, start=1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        owner_client.get(reverse(url, args=[few.pk]))
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = owner_client.get(reverse(url, args=[many.pk])).content.decode()
    assert all(f"Line {i}</a>" in body for i in range(1, 7))


def test_delete_page_of_a_live_job_has_no_delete_button(
    owner_client, workspace, owner, phone, sona
):
    job = JobFactory(workspace=workspace, name="Booking")
    cf.step_attach_job(step=sona, job=job, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    body = owner_client.get(reverse("jobs:delete", args=[job.pk])).content.decode()
    assert "“Booking” cannot be deleted" in body
    editor = reverse("callflows:editor", args=[phone.pk])
    assert f'The live call flow of <a href="{editor}">Main line</a> uses it' in body
    assert 'class="danger"' not in body and "<form" not in body.split("<main")[-1]
    assert "+15555550123" not in body


def test_delete_page_of_a_draft_only_job_explains_the_detach(
    owner_client, workspace, owner, phone, sona
):
    job = JobFactory(workspace=workspace, name="Booking")
    cf.step_attach_job(step=sona, job=job, user=owner)
    body = owner_client.get(reverse("jobs:delete", args=[job.pk])).content.decode()
    assert "Delete “Booking”?" in body and 'class="danger"' in body
    assert "Deleting it also removes it from these drafts" in body
    owner_client.post(reverse("jobs:delete", args=[job.pk]))
    job.refresh_from_db()
    assert job.is_deleted and not sona.step_jobs.exists()  # what the page said


def test_delete_page_of_a_live_knowledge_page(owner_client, workspace, owner, phone, sona):
    page = KnowledgePageFactory(workspace=workspace, title="Prices")
    cf.step_attach_knowledge(step=sona, page=page, user=owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    body = owner_client.get(reverse("knowledge:delete", args=[page.pk])).content.decode()
    assert "“Prices” cannot be deleted" in body and 'class="danger"' not in body
    panel = reverse("callflows:step_knowledge", args=[phone.pk, sona.pk])
    assert f'href="{panel}"' in body
    detail = owner_client.get(reverse("knowledge:detail", args=[page.pk])).content.decode()
    assert f'href="{panel}"' in detail
    assert KnowledgePage.objects.get(pk=page.pk).deleted_at is None
