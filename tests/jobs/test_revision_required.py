"""Every form that carries a revision refuses a POST without a whole-number one, and changes
nothing: without it the service could not tell a stale copy from a fresh one."""

import pytest
from django.urls import reverse

from jobs import services
from jobs.forms import REVISION_MISSING
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

BAD_REVISIONS = [None, "", "abc", "-1", "²", "1.5"]


def _texts(job, **changes):
    return {**job.text_fields(), **changes}


def _state(job):
    job.refresh_from_db()
    return job.text_fields(), job.revision, job.history.count()


@pytest.fixture
def job(workspace, owner):
    job = JobFactory(workspace=workspace, instructions="1. Take a message.")
    job.save()  # history row
    return job


def _with(data, revision):
    return data if revision is None else {**data, "revision": revision}


def test_editor_sends_the_revision(owner_client, job):
    page = owner_client.get(reverse("jobs:edit", args=[job.pk])).content.decode()
    assert f'name="revision" value="{job.revision}"' in page


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_edit_without_revision_is_refused(owner_client, job, revision):
    before = _state(job)
    data = _with(_texts(job, instructions="Overwrite blindly."), revision)
    response = owner_client.post(reverse("jobs:edit", args=[job.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["revision"] == [REVISION_MISSING]
    assert "did not say which version" in response.content.decode()  # shown on the page
    assert _state(job) == before


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_optimize_without_revision_is_refused(owner_client, job, revision):
    before = _state(job)
    data = _with(_texts(job, instructions="Changed, then optimized."), revision)
    response = owner_client.post(reverse("jobs:optimize", args=[job.pk]), data)
    assert response.context["form"].errors["revision"] == [REVISION_MISSING]
    assert _state(job) == before


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_undo_without_revision_is_refused(owner_client, owner, job, revision):
    job = services.job_optimize(job=job, user=owner, expected_revision=job.revision).job
    before = _state(job)
    response = owner_client.post(
        reverse("jobs:undo_optimize", args=[job.pk]), _with(_texts(job), revision)
    )
    assert REVISION_MISSING in response.context["form"].non_field_errors()
    assert _state(job) == before


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_version_restore_without_revision_is_refused(owner_client, job, revision):
    first = job.history.earliest("history_id")
    job.instructions = "Newer text."
    job.revision += 1
    job.save()
    before = _state(job)
    response = owner_client.post(
        reverse("jobs:version_restore", args=[job.pk, first.history_id]),
        _with({}, revision),
        follow=True,
    )
    assert REVISION_MISSING in [str(m) for m in response.context["messages"]]
    assert _state(job) == before


@pytest.mark.parametrize("choice", ["overwrite", "keep"])
@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_conflict_resolution_without_revision_is_refused(owner_client, job, choice, revision):
    before = _state(job)
    data = _with({"choice": choice, **_texts(job, instructions="Mine.")}, revision)
    response = owner_client.post(reverse("jobs:conflict", args=[job.pk]), data)
    assert response.status_code == 409  # the conflict page again, with the reason
    assert REVISION_MISSING in [str(m) for m in response.context["messages"]]
    assert _state(job) == before


def test_with_the_revision_the_edit_saves(owner_client, job):
    data = _texts(job, instructions="2. New text.", revision=job.revision)
    assert owner_client.post(reverse("jobs:edit", args=[job.pk]), data).status_code == 302
    job.refresh_from_db()
    assert job.instructions == "2. New text."
