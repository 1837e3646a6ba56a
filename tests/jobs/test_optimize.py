import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from jobs import services
from jobs.models import Job
from tests.conftest import history_reasons

pytestmark = pytest.mark.django_db

MESSY = (
    "you should probably try to ask them their name. maybe tell them a visit costs $89.50 "
    "and we open at 9am. ask them their name."
)


@pytest.fixture
def job(workspace, owner):
    return services.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "Visits", "trigger": "Caller wants a visit", "instructions": MESSY},
    )


def test_optimize_then_undo_restores_exact_text(job, owner):
    done = services.job_optimize(job=job, user=owner, expected_revision=job.revision)
    optimized, result = done.job, done.result
    assert optimized.instructions == result.text != MESSY
    assert "1." in result.text and "$89.50" in result.text and "9am" in result.text
    assert result.changes
    assert services.job_can_undo_optimize(optimized)
    undone = services.job_undo_optimize(
        job=optimized, user=owner, expected_revision=optimized.revision
    )
    assert undone.instructions == MESSY
    assert history_reasons(job) == ["created", "optimized", "undo optimize"]
    assert not services.job_can_undo_optimize(undone)
    with pytest.raises(ValidationError, match="no optimize to undo"):
        services.job_undo_optimize(job=undone, user=owner)


def test_optimize_twice_says_already_optimized(job, owner):
    job = services.job_optimize(job=job, user=owner).job
    again = services.job_optimize(job=job, user=owner)
    assert again.result.already_optimized
    again = again.job
    assert again.revision == job.revision and history_reasons(job) == ["created", "optimized"]


def test_unsaved_edits_are_saved_first(job, owner):
    typed = {**job.text_fields(), "instructions": MESSY + " tell them to email info@example.com."}
    optimized = services.job_optimize(
        job=job, user=owner, expected_revision=job.revision, unsaved=typed
    ).job
    versions = list(job.history.order_by("history_id"))
    assert [v.history_change_reason for v in versions] == ["created", "edited", "optimized"]
    assert versions[1].instructions == typed["instructions"]
    assert "info@example.com" in optimized.instructions


def test_optimize_checks_staleness(job, owner, admin_user):
    services.job_update(job=job, user=admin_user, data={"instructions": "Teammate's text."})
    with pytest.raises(services.JobConflict):
        services.job_optimize(job=job, user=owner, expected_revision=1)
    with pytest.raises(services.JobConflict):
        services.job_optimize(
            job=job, user=owner, expected_revision=1, unsaved={"instructions": "Mine"}
        )
    job.refresh_from_db()
    assert job.instructions == "Teammate's text."


def test_undo_checks_staleness(job, owner, admin_user):
    optimized = services.job_optimize(job=job, user=owner).job
    with pytest.raises(services.JobConflict):
        services.job_undo_optimize(
            job=optimized, user=owner, expected_revision=optimized.revision - 1
        )


def test_optimize_refusal_keeps_text(job, owner):
    # Each sentence becomes a numbered step: this text would grow past 10,000 characters.
    long_text = " ".join(f"Tell them item {i}." for i in range(700))[:9990]
    job = services.job_update(job=job, user=owner, data={"instructions": long_text})
    with pytest.raises(ValidationError) as exc:
        services.job_optimize(job=job, user=owner)
    assert "over the 10,000-character limit" in exc.value.message_dict["instructions"][0]
    job.refresh_from_db()
    assert (job.instructions, history_reasons(job)) == (long_text.strip(), ["created", "edited"])


def editor_post(client, job, url_name, **changes):
    data = {**job.text_fields(), "revision": job.revision, **changes}
    return client.post(reverse(url_name, args=[job.pk]), data, HTTP_HX_REQUEST="true")


def test_optimize_and_undo_buttons_swap_the_form(owner_client, job):
    page = owner_client.get(reverse("jobs:edit", args=[job.pk]))
    assert ">Optimize</button>" in page.text and ">Undo</button>" not in page.text
    response = editor_post(owner_client, job, "jobs:optimize")
    assert response.status_code == 200
    assert "<html" not in response.text  # a partial for htmx
    assert ">Undo</button>" in response.text and "What changed" in response.text
    job.refresh_from_db()
    assert job.history.first().history_change_reason == "optimized"
    response = editor_post(owner_client, job, "jobs:undo_optimize")
    job.refresh_from_db()
    assert job.instructions == MESSY
    assert "Undone" in response.text and ">Undo</button>" not in response.text


def test_optimize_without_htmx_renders_whole_page(owner_client, job):
    data = {**job.text_fields(), "revision": job.revision}
    response = owner_client.post(reverse("jobs:optimize", args=[job.pk]), data)
    assert response.status_code == 200 and "<html" in response.text


def test_optimize_with_invalid_edit_shows_error_and_saves_nothing(owner_client, job):
    response = editor_post(owner_client, job, "jobs:optimize", name="x" * 101)
    assert "at most 100 characters" in response.text
    assert Job.objects.get(pk=job.pk).revision == 1


def test_stale_optimize_shows_conflict_page(owner_client, job, admin_user):
    services.job_update(job=job, user=admin_user, data={"instructions": "Teammate's."})
    response = editor_post(owner_client, job, "jobs:optimize", revision=1)
    assert response.status_code == 200 and response["HX-Retarget"] == "body"
    assert "was changed while you were editing" in response.text


def test_member_cannot_optimize(member_client, job):
    assert editor_post(member_client, job, "jobs:optimize").status_code == 403
    assert editor_post(member_client, job, "jobs:undo_optimize").status_code == 403
    assert job.history.count() == 1


def test_optimize_instructions_command(tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text(MESSY, encoding="utf-8")
    call_command("optimize_instructions", str(source))
    out = capsys.readouterr().out
    assert out.startswith("1.") and "$89.50" in out
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("optimize_instructions", str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("  ", encoding="utf-8")
    with pytest.raises(CommandError, match="no instructions"):
        call_command("optimize_instructions", str(empty))


def test_optimize_job_command(job, owner, workspace, capsys):
    call_command(
        "optimize_job", workspace=workspace.slug, job="VISITS", user=owner.email, dry_run=True
    )
    out = capsys.readouterr().out
    assert out.startswith("--- instructions (before)") and "+1." in out
    job.refresh_from_db()
    assert job.revision == 1
    call_command("optimize_job", workspace=workspace.slug, job="visits", user=owner.email)
    job.refresh_from_db()
    assert job.history.first().history_change_reason == "optimized"
    assert job.history.first().history_user == owner
    call_command("optimize_job", workspace=workspace.slug, job="visits", user=owner.email)
    assert "Already optimized" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No job called"):
        call_command("optimize_job", workspace=workspace.slug, job="nope", user=owner.email)
    with pytest.raises(CommandError, match="No workspace"):
        call_command("optimize_job", workspace="nope", job="visits", user=owner.email)


def test_undo_refuses_to_drop_text_typed_after_optimize(owner_client, job, owner):
    optimized = services.job_optimize(job=job, user=owner).job
    typed = optimized.instructions + "\n5. Typed after optimizing."
    response = editor_post(owner_client, optimized, "jobs:undo_optimize", instructions=typed)
    assert "You changed the instructions after optimizing" in response.text
    assert "Typed after optimizing." in response.text  # still in the form
    assert Job.objects.get(pk=job.pk).instructions == optimized.instructions


def test_refused_optimize_keeps_saved_edits_at_the_new_revision(owner_client, job):
    long_text = " ".join(f"Tell them item {i}." for i in range(700))[:9990]
    response = editor_post(owner_client, job, "jobs:optimize", instructions=long_text)
    assert "over the 10,000-character limit" in response.text
    job.refresh_from_db()
    assert job.instructions == long_text.strip() and job.revision == 2
    assert response.context["form"]["revision"].value() == 2


def test_version_pages_number_versions_like_history(owner_client, job, owner):
    services.job_update(job=job, user=owner, data={"instructions": "Two."})
    services.job_update(job=job, user=owner, data={"instructions": "Three."})
    second = job.history.order_by("history_id")[1]
    page = owner_client.get(reverse("jobs:version_restore", args=[job.pk, second.history_id]))
    assert "Restore version 2 of" in page.text


# Undo brings back the version right before the optimize, and nothing else ------------------

TEXT_A = "ask them their name. tell them a visit costs $89.50."
TEXT_B = "you should ask them their name and phone number. tell them we open at 9am."


def test_undo_restores_the_version_right_before_the_optimize(job, owner, admin_user, workspace):
    services.job_update(job=job, user=owner, data={"instructions": TEXT_A})
    services.job_update(job=job, user=owner, data={"instructions": TEXT_B})
    # Another job's versions in between: only this job's history counts.
    other = services.job_create(
        workspace=workspace, user=owner, data={"name": "Other", "instructions": "Other text."}
    )
    services.job_update(job=other, user=owner, data={"instructions": "Other text, edited."})
    optimized = services.job_optimize(job=job, user=owner).job
    assert optimized.instructions not in (MESSY, TEXT_A, TEXT_B)

    undone = services.job_undo_optimize(job=optimized, user=admin_user)

    assert undone.instructions == TEXT_B
    latest = job.history.order_by("-history_id").first()
    assert (latest.instructions, latest.history_change_reason) == (TEXT_B, "undo optimize")
    assert latest.history_user == admin_user
    assert history_reasons(job) == ["created", "edited", "edited", "optimized", "undo optimize"]
    assert Job.objects.get(pk=other.pk).instructions == "Other text, edited."


def test_undo_returns_to_the_edits_optimize_saved_not_to_the_older_text(job, owner):
    services.job_update(job=job, user=owner, data={"instructions": TEXT_A})
    typed = {**job.text_fields(), "instructions": TEXT_B}  # typed, not saved, then Optimize
    optimized = services.job_optimize(job=job, user=owner, unsaved=typed).job
    assert history_reasons(job) == ["created", "edited", "edited", "optimized"]

    undone = services.job_undo_optimize(job=optimized, user=owner)

    assert undone.instructions == TEXT_B
    assert job.history.order_by("-history_id").first().history_change_reason == "undo optimize"


def test_undo_refuses_unsaved_instructions_and_changes_nothing(job, owner):
    optimized = services.job_optimize(job=job, user=owner).job
    before = history_reasons(job)
    typed = {**optimized.text_fields(), "instructions": "Typed after optimizing."}
    with pytest.raises(ValidationError, match="You changed the instructions after optimizing"):
        services.job_undo_optimize(job=optimized, user=owner, unsaved=typed)
    assert Job.objects.get(pk=job.pk).instructions == optimized.instructions
    assert history_reasons(job) == before


def test_undo_restores_the_instructions_only_and_leaves_other_typed_fields_unsaved(job, owner):
    optimized = services.job_optimize(job=job, user=owner).job
    typed = {**optimized.text_fields(), "name": "Typed after optimizing"}
    undone = services.job_undo_optimize(job=optimized, user=owner, unsaved=typed)
    assert (undone.instructions, undone.name) == (MESSY, optimized.name)
    assert services.job_unsaved_fields(undone, {**typed, "instructions": MESSY}) == ["name"]


def test_undo_in_the_editor_keeps_the_typed_name_in_the_form(owner_client, job, owner):
    optimized = services.job_optimize(job=job, user=owner).job
    response = editor_post(owner_client, optimized, "jobs:undo_optimize", name="Typed name")
    form = response.context["form"]
    assert form["name"].value() == "Typed name"
    assert form["instructions"].value() == MESSY
    assert form["revision"].value() == optimized.revision + 1
    assert "Your changes to Name are kept but not saved yet" in response.text
    assert "data-unsaved" in response.text
    assert Job.objects.get(pk=job.pk).name == optimized.name


def test_undo_accepts_the_saved_text_as_the_browser_sends_it(job, owner):
    optimized = services.job_optimize(job=job, user=owner).job
    # CRLF line breaks and surrounding spaces are how a textarea posts the same text.
    posted = {"instructions": "  " + optimized.instructions.replace("\n", "\r\n") + "\r\n"}
    undone = services.job_undo_optimize(job=optimized, user=owner, unsaved=posted)
    assert undone.instructions == MESSY


def test_refused_optimize_carries_the_job_saved_with_the_edits(job, owner):
    long_text = " ".join(f"Tell them item {i}." for i in range(700))[:9990]
    with pytest.raises(services.JobOptimizeRefused) as exc:
        services.job_optimize(job=job, user=owner, unsaved={"instructions": long_text})
    assert "over the 10,000-character limit" in exc.value.message_dict["instructions"][0]
    assert exc.value.job.revision == 2 and exc.value.job.instructions == long_text.strip()
    assert history_reasons(job) == ["created", "edited"]


def test_optimize_shows_a_before_after_diff_beside_undo(owner_client, job):
    unsaved = MESSY + " <b>Be kind</b>."
    response = editor_post(owner_client, job, "jobs:optimize", instructions=unsaved)
    body = response.text
    job.refresh_from_db()
    tools, result = body.split('<div class="optimize-result" role="status">')
    assert ">Undo</button>" in tools  # Undo sits just before the diff, as before
    diff = result.split('<pre class="diff">')[1].split("</pre>")[0]
    assert '<del><span class="sr-only">removed: </span>' in diff
    assert '<ins><span class="sr-only">added: </span>' in diff
    # Joining the kept and removed text gives the text before; kept and added, the text after.
    import re

    plain = re.sub(r'<span class="sr-only">[^<]*</span>', "", diff)
    before = re.sub(r"<ins>.*?</ins>", "", plain, flags=re.S)
    after = re.sub(r"<del>.*?</del>", "", plain, flags=re.S)
    from html import unescape

    strip = lambda text: unescape(re.sub(r"</?(del|ins)>", "", text))  # noqa: E731
    assert strip(before) == unsaved and strip(after) == job.instructions
    assert "<b>Be kind</b>" not in body and "&lt;b&gt;Be kind&lt;/b&gt;" in body


def test_undo_from_a_stale_editor_shows_the_typed_name_as_yours_on_the_conflict_page(
    owner_client, job, owner
):
    optimized = services.job_optimize(job=job, user=owner).job
    services.job_update(job=optimized, user=owner, data={"description": "Someone else's edit."})
    response = editor_post(owner_client, optimized, "jobs:undo_optimize", name="Typed name")
    assert response["HX-Retarget"] == "body"
    assert "Typed name" in response.text
    assert Job.objects.get(pk=job.pk).name == optimized.name
