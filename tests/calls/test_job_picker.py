"""The Calls list's Job filter is a search (issue 22.4): the page and its queries stay flat in
the number of jobs; "Find a job" narrows the Job select to at most 20 jobs (htmx, or a plain
GET without JavaScript); a chosen job id keeps filtering."""

import pytest
from django.urls import reverse

from jobs.models import Job
from jobs.selectors import PICK_MAX
from tests.factories import CallFactory, JobFactory

pytestmark = pytest.mark.django_db
LIST = "/calls/"


def _jobs(workspace, count, prefix="Job"):
    jobs = [JobFactory.build(workspace=workspace, name=f"{prefix} {i:04}") for i in range(count)]
    return Job.objects.bulk_create(jobs)


def _options(response) -> int:
    return response.content.decode().count("<option")


def test_list_is_flat_in_the_number_of_jobs(
    owner_client, workspace, phone, django_assert_num_queries
):
    CallFactory(phone_number=phone)
    _jobs(workspace, 10)
    with django_assert_num_queries(7) as few:
        small = owner_client.get(LIST)
    _jobs(workspace, 290, prefix="More")
    with django_assert_num_queries(len(few.captured_queries)):
        large = owner_client.get(LIST)
    # at most 10 more options (the select shows 20 jobs), then not a byte more
    assert len(large.content) <= len(small.content) + 10 * 60
    _jobs(workspace, 300, prefix="Most")
    with django_assert_num_queries(len(few.captured_queries)):
        larger = owner_client.get(LIST)
    assert len(larger.content) == len(large.content)
    assert _options(large) <= PICK_MAX + 1 + 20  # Any, 20 jobs; the Number/Outcome/Source selects


def test_find_a_job_narrows_the_select_without_javascript(owner_client, workspace, phone):
    _jobs(workspace, 30)
    pizza = JobFactory(workspace=workspace, name="Pizza order")
    call = CallFactory(phone_number=phone, job=pizza)
    CallFactory(phone_number=phone)
    html = owner_client.get(LIST, {"job_q": "pizza"}).content.decode()
    assert f'<option value="{pizza.pk}">Pizza order</option>' in html
    assert "Job 0001" not in html
    response = owner_client.get(LIST, {"job_q": "pizza", "job": pizza.pk})
    assert [c.pk for c in response.context["page"].calls] == [call.pk]
    assert f'<option value="{pizza.pk}" selected>Pizza order</option>' in response.content.decode()


def test_the_endpoint_answers_at_most_20_and_keeps_the_chosen_job(
    owner_client, workspace, other_workspace
):
    jobs = _jobs(workspace, 40)
    JobFactory(workspace=other_workspace, name="Job theirs")
    url = reverse("calls:job_options")
    response = owner_client.get(url, {"job_q": "job"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.count("<option") == PICK_MAX + 1  # Any and 20 jobs
    assert 'id="calls-job"' in html and 'name="job"' in html
    assert "Job theirs" not in html
    chosen = jobs[-1]
    html = owner_client.get(
        url, {"job_q": "0001", "job": chosen.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'<option value="{chosen.pk}" selected>{chosen.name}</option>' in html
    assert "Job 0001" in html and html.count("<option") == 3


def test_a_deleted_job_still_filters_by_its_id(owner_client, workspace, phone):
    from django.utils import timezone

    job = JobFactory(workspace=workspace, name="Old job", deleted_at=timezone.now())
    call = CallFactory(phone_number=phone, job=job)
    response = owner_client.get(LIST, {"job": job.pk})
    assert [c.pk for c in response.context["page"].calls] == [call.pk]
    assert "Old job (deleted)" in response.content.decode()


def test_the_search_field_is_labelled_and_calls_the_endpoint(owner_client):
    html = owner_client.get(LIST).content.decode()
    assert '<label for="calls-job_q">Find a job</label>' in html
    assert f'hx-get="{reverse("calls:job_options")}"' in html
    assert 'hx-target="#calls-job"' in html


def test_the_endpoint_opened_as_a_page_is_the_calls_list(owner_client):
    response = owner_client.get(reverse("calls:job_options"), {"job_q": "pizza"})
    assert response.status_code == 302 and response.url == f"{LIST}?job_q=pizza"
