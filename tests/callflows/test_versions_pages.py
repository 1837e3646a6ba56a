"""Opening and comparing published versions of a call flow."""

import pytest
from django.urls import reverse

from callflows import services as cf
from tests.factories import JobFactory, KnowledgePageFactory


@pytest.fixture
def two_versions(workspace, owner, phone, sona):
    """Version 1 with “Booking”; version 2 adds “Hours” (and the knowledge “Prices”)."""
    booking = JobFactory(workspace=workspace, name="Booking")
    hours = JobFactory(workspace=workspace, name="Hours <b>")
    cf.step_attach_job(step=sona, job=booking, user=owner)
    v1 = cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    cf.step_attach_job(step=sona, job=hours, user=owner)
    cf.step_attach_knowledge(
        step=sona, page=KnowledgePageFactory(workspace=workspace, title="Prices"), user=owner
    )
    v2 = cf.callflow_publish(call_flow=phone.call_flow, user=owner, note="More jobs")
    return v1, v2, booking, hours


def test_versions_page_links_to_open_and_compare(owner_client, phone, two_versions):
    v1, v2, *_ = two_versions
    body = owner_client.get(reverse("callflows:versions", args=[phone.pk])).text
    assert reverse("callflows:version_detail", args=[phone.pk, v1.pk]) in body
    assert "Open version 2" in body and "Compare version 2 with 1" in body
    assert "Compare version 1 with 0" not in body
    assert "Compare version 1 with the draft" in body


def test_version_page_shows_steps_jobs_and_knowledge_by_name(owner_client, phone, two_versions):
    v1, v2, booking, hours = two_versions
    body = owner_client.get(reverse("callflows:version_detail", args=[phone.pk, v2.pk])).text
    assert "Version 2 of Main line" in body and "More jobs" in body
    assert f'<a href="{reverse("jobs:detail", args=[booking.pk])}">Booking</a>' in body
    assert "Hours &lt;b&gt;" in body and "Hours <b>" not in body
    assert "Prices" in body and "Greeting" in body
    old = owner_client.get(reverse("callflows:version_detail", args=[phone.pk, v1.pk])).text
    assert "Booking" in old and "Hours" not in old and "Prices" not in old


def test_compare_with_the_previous_version(owner_client, phone, two_versions):
    v1, v2, *_ = two_versions
    body = owner_client.get(reverse("callflows:version_compare", args=[phone.pk, v2.pk])).text
    assert "Version 1 → Version 2" in body
    assert "Jobs attached to “Sona”" in body and "<li>Hours &lt;b&gt;</li>" in body
    assert "Knowledge attached to “Sona”" in body and "<li>Prices</li>" in body
    # Either order of the two versions gives the same, older-to-newer comparison.
    url = reverse("callflows:version_compare", args=[phone.pk, v1.pk])
    assert "Version 1 → Version 2" in owner_client.get(url, {"with": v2.pk}).text


def test_first_version_compares_with_nothing(owner_client, phone, two_versions):
    v1, *_ = two_versions
    body = owner_client.get(reverse("callflows:version_compare", args=[phone.pk, v1.pk])).text
    assert "Nothing (first version) → Version 1" in body and "Step added: “Sona”" in body


def test_compare_with_the_draft(owner_client, owner, phone, sona, two_versions):
    v1, v2, booking, _ = two_versions
    url = reverse("callflows:version_compare", args=[phone.pk, v2.pk])
    assert "No differences" in owner_client.get(url, {"with": "draft"}).text
    cf.step_detach_job(step=sona, job=booking, user=owner)
    body = owner_client.get(url, {"with": "draft"}).text
    assert "Version 2 → the draft" in body and "Jobs detached from “Sona”" in body


def test_another_flows_version_is_404(owner_client, workspace, owner, phone, two_versions):
    v1, *_ = two_versions
    other = cf.phone_number_create(
        workspace=workspace, number="+15555550999", display_name="Other", user=owner
    )
    for name in ("callflows:version_detail", "callflows:version_compare"):
        assert owner_client.get(reverse(name, args=[other.pk, v1.pk])).status_code == 404
    url = reverse("callflows:version_compare", args=[phone.pk, v1.pk])
    other_version = cf.callflow_publish(call_flow=other.call_flow, user=owner)
    assert owner_client.get(url, {"with": other_version.pk}).status_code == 404


def test_version_pages_queries_do_not_grow_with_jobs(
    owner_client, workspace, owner, phone, sona, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cf.step_attach_job(step=sona, job=JobFactory(workspace=workspace), user=owner)
    small = cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    for job in JobFactory.create_batch(8, workspace=workspace):
        cf.step_attach_job(step=sona, job=job, user=owner)
    big = cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    for name in ("callflows:version_detail", "callflows:version_compare"):
        with CaptureQueriesContext(connection) as baseline:
            owner_client.get(reverse(name, args=[phone.pk, small.pk]))
        with django_assert_max_num_queries(len(baseline.captured_queries)):
            assert owner_client.get(reverse(name, args=[phone.pk, big.pk])).status_code == 200
