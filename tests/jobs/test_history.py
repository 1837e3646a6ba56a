import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.diff import word_diff
from jobs import services
from jobs.models import Job
from tests.conftest import history_reasons
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

R, A = '<span class="sr-only">removed: </span>', '<span class="sr-only">added: </span>'


def make_job(workspace, user, **data):
    base = {"name": "Greeting", "instructions": "Say hello."}
    return services.job_create(workspace=workspace, user=user, data={**base, **data})


def edit(job, user, text, **kwargs):
    return services.job_update(job=job, user=user, data={"instructions": text}, **kwargs)


def test_word_diff_marks_words():
    # The space moves into both sides so the page reads "nicely now", not "nicelynow".
    assert word_diff("Ask the caller nicely", "Ask the caller now") == [
        ("equal", "Ask the caller"),
        ("delete", " nicely"),
        ("insert", " now"),
    ]
    assert word_diff("", "New") == [("insert", "New")]


def test_restore_version_adds_a_version(workspace, owner, admin_user):
    job = make_job(workspace, owner)
    edit(job, owner, "Second text.")
    first = job.history.order_by("history_id").first()
    job = services.job_restore_version(job=job, version=first, user=admin_user)
    assert job.instructions == "Say hello."
    assert history_reasons(job) == ["created", "edited", "restored"]
    assert job.history.first().history_user == admin_user


def test_restore_version_of_another_job_is_refused(workspace, owner):
    job = make_job(workspace, owner)
    other = make_job(workspace, owner, name="Other", instructions="Other text.")
    with pytest.raises(ValidationError):
        services.job_restore_version(job=job, version=other.history.first(), user=owner)
    job.refresh_from_db()
    assert job.instructions == "Say hello."


def test_restore_version_checks_staleness(workspace, owner):
    job = make_job(workspace, owner)
    first = job.history.first()
    edit(job, owner, "Newer.")
    with pytest.raises(services.JobConflict):
        services.job_restore_version(job=job, version=first, user=owner, expected_revision=1)
    job.refresh_from_db()
    assert job.instructions == "Newer."


def test_two_saves_from_same_version_one_wins_nothing_lost(workspace, owner, admin_user):
    job = make_job(workspace, owner)
    opened = job.revision
    edit(job, owner, "Owner wins.", expected_revision=opened)
    with pytest.raises(services.JobConflict) as exc:
        edit(job, admin_user, "Admin's text.", expected_revision=opened)
    conflict = exc.value
    # The loser chooses; every choice keeps both texts in history.
    kept = services.job_resolve_conflict(
        job=job,
        user=admin_user,
        choice="keep",
        attempted=conflict.attempted,
        current_revision=conflict.current.revision,
    )
    assert kept.instructions == "Owner wins."
    texts = list(job.history.values_list("instructions", flat=True))
    assert "Admin's text." in texts and "Owner wins." in texts


def test_conflict_overwrite_and_copy(workspace, owner, admin_user):
    job = make_job(workspace, owner)
    edit(job, owner, "Owner's.")
    attempted = {**job.text_fields(), "instructions": "Admin's."}
    with pytest.raises(services.JobConflict):  # the page's revision is stale again
        services.job_resolve_conflict(
            job=job, user=admin_user, choice="overwrite", attempted=attempted, current_revision=1
        )
    job = services.job_resolve_conflict(
        job=job, user=admin_user, choice="overwrite", attempted=attempted, current_revision=2
    )
    assert job.instructions == "Admin's."
    assert "Owner's." in job.history.values_list("instructions", flat=True)
    copy = services.job_resolve_conflict(
        job=job,
        user=admin_user,
        choice="copy",
        attempted={**attempted, "instructions": "Third."},
        current_revision=3,
    )
    assert (copy.name, copy.instructions) == ("Greeting (copy)", "Third.")
    again = services.job_resolve_conflict(
        job=job, user=admin_user, choice="copy", attempted=attempted, current_revision=3
    )
    assert again.name == "Greeting (copy 2)"
    with pytest.raises(ValidationError):
        services.job_resolve_conflict(
            job=job, user=admin_user, choice="bogus", attempted=attempted, current_revision=3
        )


def test_history_page_lists_versions_with_reasons(owner_client, workspace, owner):
    job = make_job(workspace, owner)
    edit(job, owner, "Second.")
    services.job_delete(job=job, user=owner)
    services.job_restore_deleted(job=job, user=owner)
    response = owner_client.get(reverse("jobs:history", args=[job.pk]))
    rows = [(v.number, v.history_change_reason, v.changed) for v in response.context["versions"]]
    assert rows == [
        (4, "restored", ["restored"]),
        (3, "deleted", ["deleted"]),
        (2, "edited", ["instructions"]),
        (1, "created", []),
    ]
    assert owner.email in response.text


@pytest.mark.parametrize("count", [60, 1000])
def test_history_page_queries_constant(
    owner_client, workspace, owner, count, django_assert_max_num_queries
):
    job = make_job(workspace, owner)
    HistoricalJob = Job.history.model
    template = job.history.first()
    fields = {
        f.attname: getattr(template, f.attname)
        for f in HistoricalJob._meta.fields
        if f.attname != "history_id"
    }
    HistoricalJob.objects.bulk_create(
        HistoricalJob(**{**fields, "instructions": f"Text {i}"}) for i in range(count - 1)
    )
    with django_assert_max_num_queries(9):
        response = owner_client.get(reverse("jobs:history", args=[job.pk]), {"page": 2})
    assert response.context["versions"][0].number == count - 50


def test_compare_page_shows_word_diff_of_all_fields(owner_client, workspace, owner):
    job = make_job(workspace, owner, description="Old description")
    services.job_update(
        job=job, user=owner, data={"instructions": "Say goodbye.", "description": "New description"}
    )
    first, second = job.history.order_by("history_id")
    response = owner_client.get(
        reverse("jobs:compare", args=[job.pk]), {"a": second.history_id, "b": first.history_id}
    )
    assert response.context["old"].history_id == first.history_id  # sides are put in order
    assert f"<del>{R} hello.</del><ins>{A} goodbye.</ins>" in response.text
    assert f"<del>{R}Old </del><ins>{A}New </ins>" in response.text
    for label in ["Name", "Description", "Caller intent", "Instructions"]:
        assert f"<h2>{label}</h2>" in response.text
    missing = owner_client.get(reverse("jobs:compare", args=[job.pk]), {"a": "x"})
    assert missing.status_code == 302


def test_compare_side_by_side_shows_each_version_with_its_own_changes(
    owner_client, workspace, owner
):
    job = make_job(workspace, owner, description="Old description")
    services.job_update(job=job, user=owner, data={"description": "New description"})
    first, second = job.history.order_by("history_id")
    url = reverse("jobs:compare", args=[job.pk])
    ids = {"a": first.history_id, "b": second.history_id}
    inline = owner_client.get(url, ids).text
    layout = inline.split('aria-label="Diff layout">', 1)[1].split("</nav>", 1)[0]
    query = f"?a={first.history_id}&amp;b={second.history_id}"
    assert f'<a href="{query}" aria-current="page">Inline</a>' in layout
    assert f'<a href="{query}&amp;view=side">Side by side</a>' in layout
    side = owner_client.get(url, {**ids, "view": "side"}).text
    column = side.split("<h2>Description</h2>", 1)[1].split("</div>\n</div>", 1)[0]
    older, newer = column.split('<p class="diff-side-label">Version 2</p>')
    assert "Version 1</p>" in older
    assert f"<del>{R}Old </del>description" in older and "<ins>" not in older
    assert f"<ins>{A}New </ins>description" in newer and "<del>" not in newer
    assert 'aria-current="page">Side by side</a>' in side


def test_compare_refuses_versions_of_other_jobs(owner_client, workspace, owner):
    job = make_job(workspace, owner)
    other = JobFactory()  # another workspace
    other.save()
    response = owner_client.get(
        reverse("jobs:compare", args=[job.pk]),
        {"a": job.history.first().history_id, "b": other.history.first().history_id},
    )
    assert response.status_code == 404


def test_restore_page_and_post(owner_client, workspace, owner):
    job = make_job(workspace, owner)
    edit(job, owner, "Second.")
    first = job.history.order_by("history_id").first()
    url = reverse("jobs:version_restore", args=[job.pk, first.history_id])
    assert "Restore this version" in owner_client.get(url).text
    owner_client.post(url, {"revision": 2})
    job.refresh_from_db()
    assert (job.instructions, job.revision) == ("Say hello.", 3)
    stale = owner_client.post(url, {"revision": 2})
    assert stale.status_code == 409


def test_member_cannot_restore_or_resolve(member_client, workspace, owner):
    job = make_job(workspace, owner)
    first = job.history.first()
    assert member_client.get(reverse("jobs:history", args=[job.pk])).status_code == 200
    assert (
        member_client.post(
            reverse("jobs:version_restore", args=[job.pk, first.history_id])
        ).status_code
        == 403
    )
    assert (
        member_client.post(
            reverse("jobs:conflict", args=[job.pk]), {"choice": "overwrite"}
        ).status_code
        == 403
    )
    assert job.history.count() == 1


def test_conflict_page_flow(owner_client, workspace, owner, admin_user):
    job = make_job(workspace, owner)
    edit(job, admin_user, "Admin got there first.")
    data = {
        "name": "Greeting",
        "description": "",
        "trigger": "",
        "instructions": "Mine.",
        "revision": 1,
    }
    response = owner_client.post(reverse("jobs:edit", args=[job.pk]), data)
    assert response.status_code == 409
    for text in [
        "Mine.",
        "Admin got there first.",
        "Keep the current version",
        "Save mine over it",
        "Save mine as a new job",
    ]:
        assert text in response.text
    data.update(choice="overwrite", revision=2)
    response = owner_client.post(reverse("jobs:conflict", args=[job.pk]), data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.instructions == "Mine."
