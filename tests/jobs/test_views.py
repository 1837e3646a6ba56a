import pytest
from django.urls import reverse

from jobs.models import Job, JobTemplate
from tests.factories import JobFactory, JobTemplateFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def post_job(client, url, **changes):
    data = {
        "name": "Book a table",
        "description": "",
        "trigger": "",
        "instructions": "1. Ask.",
        **changes,
    }
    return client.post(url, data)


def test_library_lists_searches_and_sorts(owner_client, workspace):
    JobFactory(workspace=workspace, name="Alpha", instructions="Mention the parking lot.")
    JobFactory(workspace=workspace, name="Beta", description="Leads from ads")
    JobFactory(workspace=workspace, name="Gamma", trigger="Caller is angry")
    JobFactory(name="Alpha elsewhere")  # another workspace: never listed
    url = reverse("jobs:list")

    def names(**params):
        return [job.name for job in owner_client.get(url, params).context["page"]]

    assert names() == ["Alpha", "Beta", "Gamma"]
    assert names(q="parking") == ["Alpha"]
    assert names(q="ADS") == ["Beta"]
    assert names(q="angry") == ["Gamma"]
    assert names(q="gam") == ["Gamma"]
    assert names(sort="-name") == ["Gamma", "Beta", "Alpha"]
    Job.objects.get(name="Alpha").save()  # newest change
    assert names(sort="-updated")[0] == "Alpha"
    assert names(sort="bogus") == ["Alpha", "Beta", "Gamma"]


def test_library_is_paginated(owner_client, workspace):
    JobFactory.create_batch(30, workspace=workspace)
    response = owner_client.get(reverse("jobs:list"), {"page": 2})
    assert len(response.context["page"]) == 5
    assert "Page 2 of 2" in response.text
    assert owner_client.get(reverse("jobs:list"), {"page": "junk"}).status_code == 200


def _bulk_jobs(workspace, count):
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Bulk {i:05}", instructions="Steps.") for i in range(count)
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_library_query_count_is_constant(
    owner_client, workspace, count, django_assert_max_num_queries
):
    _bulk_jobs(workspace, count)
    # session, user, membership, count, page of jobs, header switcher
    with django_assert_max_num_queries(7):
        response = owner_client.get(reverse("jobs:list"), {"q": "Bulk", "sort": "-updated"})
    assert response.status_code == 200
    assert len(response.context["page"]) == min(count, 25)


def test_create_from_scratch(owner_client, owner, workspace):
    response = post_job(owner_client, reverse("jobs:create"), name="  Book a table ")
    job = Job.objects.get(workspace=workspace)
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.name, job.created_by) == ("Book a table", owner)


def test_editor_shows_counters_and_labels(owner_client):
    text = owner_client.get(reverse("jobs:create")).text
    for label in ["Name", "Description", "Caller intent", "Instructions"]:
        assert f">{label}</label>" in text
    for limit in ["100", "500", "10000"]:
        assert f'data-limit="{limit}"' in text


def test_create_from_template_prefills_and_saves(owner_client, workspace):
    template = JobTemplate.objects.get(key="qualify-a-lead")
    url = reverse("jobs:create") + f"?template={template.pk}"
    response = owner_client.get(url)
    assert response.context["form"].initial["instructions"] == template.instructions
    assert not Job.objects.exists()  # nothing saved before Save
    post_job(owner_client, url, name=template.name, instructions=template.instructions)
    job = Job.objects.get()
    assert job.template == template and job.workspace == workspace


def test_foreign_template_is_404(owner_client):
    foreign = JobTemplateFactory()
    assert owner_client.get(reverse("jobs:create") + f"?template={foreign.pk}").status_code == 404


def test_template_gallery_lists_builtin_and_own(owner_client, workspace):
    own = JobTemplateFactory(workspace=workspace, name="Our own")
    JobTemplateFactory(name="Someone else's")
    response = owner_client.get(reverse("jobs:new"))
    names = [t.name for t in response.context["templates"]]
    assert "Take a message" in names and own.name in names and "Someone else's" not in names
    assert "Start from scratch" in response.text and "Use template" in response.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"description": "x" * 501}, "at most 500 characters"),
        ({"trigger": "x" * 501}, "at most 500 characters"),
        ({"instructions": "x" * 10_001}, "at most 10000 characters"),
        ({"name": "  "}, "This field is required."),
    ],
)
def test_invalid_input_shows_error_and_saves_nothing(owner_client, changes, error):
    response = post_job(owner_client, reverse("jobs:create"), **changes)
    assert response.status_code == 200
    assert error in response.text.replace(",", "")
    assert not Job.objects.exists()


def test_duplicate_name_error_next_to_field(owner_client, workspace):
    JobFactory(workspace=workspace, name="Book a table")
    response = post_job(owner_client, reverse("jobs:create"), name="BOOK A TABLE")
    assert response.context["form"].errors["name"] == [
        "A job with this name already exists in this workspace."
    ]
    assert Job.objects.count() == 1


def test_edit_saves_a_version(owner_client, workspace):
    job = JobFactory(workspace=workspace)
    response = post_job(
        owner_client, reverse("jobs:edit", args=[job.pk]), name="Renamed", revision=job.revision
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.name, job.revision) == ("Renamed", 2)


def test_stale_edit_gets_conflict_page(owner_client, workspace, owner):
    job = JobFactory(workspace=workspace, instructions="Original.")
    job.instructions, job.revision = "Teammate's text.", 2
    job.save()
    response = post_job(
        owner_client, reverse("jobs:edit", args=[job.pk]), instructions="My text.", revision=1
    )
    assert response.status_code == 409
    assert "My text." in response.text and "Teammate&#x27;s text." in response.text
    job.refresh_from_db()
    assert job.instructions == "Teammate's text."


def test_delete_confirm_then_restore(owner_client, workspace):
    job = JobFactory(workspace=workspace, name="Temporary")
    assert "Delete “Temporary”?" in owner_client.get(reverse("jobs:delete", args=[job.pk])).text
    owner_client.post(reverse("jobs:delete", args=[job.pk]))
    job.refresh_from_db()
    assert job.is_deleted
    assert not owner_client.get(reverse("jobs:list")).context["page"].object_list
    deleted_page = owner_client.get(reverse("jobs:deleted"))
    assert [j.name for j in deleted_page.context["page"]] == ["Temporary"]
    owner_client.post(reverse("jobs:restore", args=[job.pk]))
    job.refresh_from_db()
    assert not job.is_deleted
    # A deleted job cannot be edited through its URL.
    owner_client.post(reverse("jobs:delete", args=[job.pk]))
    assert owner_client.get(reverse("jobs:edit", args=[job.pk])).status_code == 404


def test_restore_with_taken_name_explains(owner_client, workspace):
    job = JobFactory(workspace=workspace, name="Dup", deleted_at="2026-01-01T00:00:00Z")
    JobFactory(workspace=workspace, name="dup")
    response = owner_client.post(reverse("jobs:restore", args=[job.pk]), follow=True)
    assert "Another job is already called" in response.text
    job.refresh_from_db()
    assert job.is_deleted


def test_save_as_template_and_delete_template(owner_client, workspace):
    job = JobFactory(workspace=workspace, name="Great job")
    owner_client.post(reverse("jobs:template_from_job", args=[job.pk]), {"name": "Our template"})
    template = JobTemplate.objects.get(workspace=workspace)
    assert template.name == "Our template"
    response = owner_client.post(
        reverse("jobs:template_from_job", args=[job.pk]), {"name": "x" * 101}, follow=True
    )
    assert "at most 100 characters" in response.text
    owner_client.post(reverse("jobs:template_delete", args=[template.pk]))
    assert not JobTemplate.objects.filter(workspace=workspace).exists()
    builtin = JobTemplate.objects.filter(workspace__isnull=True).first()
    response = owner_client.post(reverse("jobs:template_delete", args=[builtin.pk]), follow=True)
    assert "Built-in templates are read-only." in response.text
    assert JobTemplate.objects.filter(pk=builtin.pk).exists()


def test_member_reads_but_every_write_is_403(member_client, workspace):
    job = JobFactory(workspace=workspace, name="Keep me")
    template = JobTemplateFactory(workspace=workspace)
    assert member_client.get(reverse("jobs:list")).status_code == 200
    assert member_client.get(job.get_absolute_url()).status_code == 200
    writes = [
        ("post", reverse("jobs:create"), {"name": "New", "instructions": "x"}),
        ("get", reverse("jobs:new"), {}),
        ("post", reverse("jobs:edit", args=[job.pk]), {"name": "Hacked", "instructions": "x"}),
        ("post", reverse("jobs:delete", args=[job.pk]), {}),
        ("post", reverse("jobs:template_from_job", args=[job.pk]), {"name": "T"}),
        ("post", reverse("jobs:template_delete", args=[template.pk]), {}),
    ]
    for method, url, data in writes:
        assert getattr(member_client, method)(url, data).status_code == 403, url
    job.refresh_from_db()
    assert (job.name, job.is_deleted, job.revision) == ("Keep me", False, 1)
    assert Job.objects.count() == 1 and JobTemplate.objects.filter(workspace=workspace).count() == 1


def test_member_cannot_restore(member_client, workspace):
    job = JobFactory(workspace=workspace, deleted_at="2026-01-01T00:00:00Z")
    assert member_client.post(reverse("jobs:restore", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.is_deleted


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_script_in_every_field_renders_as_text(owner_client, workspace):
    job = JobFactory(workspace=workspace, name=XSS, description=XSS, trigger=XSS, instructions=XSS)
    deleted = JobFactory(workspace=workspace, name=XSS + " 2", deleted_at="2026-01-01T00:00:00Z")
    JobTemplateFactory(workspace=workspace, name=XSS, description=XSS, instructions=XSS)
    pages = [
        reverse("jobs:list"),
        reverse("jobs:list") + "?q=" + XSS,
        reverse("jobs:deleted"),
        reverse("jobs:new"),
        job.get_absolute_url(),
        reverse("jobs:edit", args=[job.pk]),
        reverse("jobs:delete", args=[job.pk]),
        deleted.get_absolute_url(),
    ]
    for url in pages:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert XSS not in response.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text, url


def test_crlf_from_the_browser_counts_one_character_per_line_break(owner_client, workspace):
    text = "\r\n".join(["x" * 99] * 100)  # 9,999 characters as the live counter shows them
    response = post_job(owner_client, reverse("jobs:create"), instructions=text)
    assert response.status_code == 302
    assert Job.objects.get().instructions == "\n".join(["x" * 99] * 100)
