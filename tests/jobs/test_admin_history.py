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
    assert "<strong>Instructions:</strong>" in text
    # The word diff with its spaces: "Ask for the " kept, "name." removed, "phone number." added.
    assert (
        'Ask for the<del><span class="sr-only">removed: </span> name.</del>'
        '<ins><span class="sr-only">added: </span> phone number.</ins>'
    ) in text
    assert "<strong>Created:</strong> first version" in text
    assert text.count("Restore this version") == 2
    assert owner.email in text and "edited" in text


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


def test_history_says_deleted_and_restored_in_words(staff_client, job, owner):
    services.job_delete(job=job, user=owner)
    services.job_restore_deleted(job=job, user=owner)
    text = staff_client.get(reverse("admin:jobs_job_history", args=[job.pk])).content.decode()
    assert "<strong>Status:</strong> moved to Recently deleted" in text
    assert "<strong>Status:</strong> restored from Recently deleted" in text
    assert "deleted:" not in text and "&rarr;" not in text and "→" not in text


def test_history_shows_a_long_text_change_as_an_excerpt_of_whole_words(staff_client, job, owner):
    long = " ".join(f"word{i}" for i in range(60))
    job = services.job_update(job=job, user=owner, data={"instructions": long + " its end."})
    job = services.job_update(job=job, user=owner, data={"instructions": long + " Its <end>."})
    text = staff_client.get(reverse("admin:jobs_job_history", args=[job.pk])).content.decode()
    newest = text.split("<strong>Instructions:</strong>")[1].split("</li>")[0]
    assert '<pre class="diff"><span class="diff-gap">… </span>word54 ' in newest
    assert "<del><span" in newest and "its end.</del>" in newest
    assert "Its &lt;end&gt;.</ins>" in newest and "<end>" not in text
    assert "word3 " not in newest


def test_knowledge_history_shows_word_diffs(staff_client, workspace, owner):
    from knowledge import services as ks

    page = ks.knowledge_page_create(workspace=workspace, user=owner, title="Hours", body="Open 9.")
    ks.knowledge_page_update(
        page=page, user=owner, title="Hours", body="Open 10.", expected_revision=page.revision
    )
    url = reverse("admin:knowledge_knowledgepage_history", args=[page.pk])
    text = staff_client.get(url).content.decode()
    assert "<strong>Body:</strong>" in text and "9.</del>" in text and "10.</ins>" in text
