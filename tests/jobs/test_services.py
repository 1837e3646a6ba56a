import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from jobs import services
from jobs.models import Job, JobTemplate
from jobs.signals import job_changed
from tests.conftest import postgres_only
from tests.factories import JobFactory, JobTemplateFactory, MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Take a message",
    "description": "For teammates.",
    "trigger": "Caller wants to leave a message.",
    "instructions": "1. Ask for the caller's name.\n2. End the call.",
}


def create(workspace, user, **changes):
    return services.job_create(workspace=workspace, user=user, data={**VALID, **changes})


def test_create_trims_and_records_history(workspace, owner):
    job = create(workspace, owner, name="  Take a message  ")
    assert job.name == "Take a message"
    assert (job.created_by, job.updated_by, job.revision) == (owner, owner, 1)
    record = job.history.get()
    assert record.history_user == owner
    assert record.history_change_reason == "created"


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", 100), ("description", 500), ("trigger", 500), ("instructions", 10_000)],
)
def test_limits_are_characters_not_bytes(workspace, owner, field, limit):
    job = create(workspace, owner, **{field: "é" * limit})
    assert len(getattr(job, field)) == limit
    with pytest.raises(ValidationError) as exc:
        create(workspace, owner, **{"name": "Other", field: "é" * (limit + 1)})
    assert field in exc.value.message_dict
    assert f"at most {limit:,}".replace(",", "") in exc.value.message_dict[field][0].replace(
        ",", ""
    )
    assert Job.objects.count() == 1


@pytest.mark.parametrize("field", ["name", "instructions"])
def test_required_fields(workspace, owner, field):
    with pytest.raises(ValidationError) as exc:
        create(workspace, owner, **{field: "   "})
    assert field in exc.value.message_dict
    assert not Job.objects.exists()


def test_duplicate_name_ignores_case_within_workspace_only(workspace, owner):
    create(workspace, owner, name="Take a Message")
    with pytest.raises(ValidationError) as exc:
        create(workspace, owner, name="take a message")
    assert exc.value.message_dict["name"] == [
        "A job with this name already exists in this workspace."
    ]
    assert Job.objects.count() == 1
    elsewhere = MembershipFactory(user=owner).workspace
    create(elsewhere, owner, name="take a message")  # another workspace may reuse it
    assert Job.objects.count() == 2


def test_non_text_value_is_refused(workspace, owner):
    with pytest.raises(ValidationError) as exc:
        create(workspace, owner, name=12)
    assert exc.value.message_dict == {"name": ["Must be text."]}


def test_template_is_copied_and_remembered(workspace, owner):
    template = JobTemplate.objects.get(key="take-a-message")
    job = services.job_create(
        workspace=workspace, user=owner, data=template.text_fields(), template=template
    )
    assert job.template == template and job.template_name == template.name
    assert job.history.get().history_change_reason == "created from template"
    template.instructions = "Changed later."
    template.save()
    job.refresh_from_db()
    assert job.instructions != "Changed later."


def test_template_of_another_workspace_is_refused(workspace, owner):
    foreign = JobTemplateFactory(workspace=WorkspaceFactory())
    with pytest.raises(ValidationError):
        services.job_create(workspace=workspace, user=owner, data=VALID, template=foreign)
    assert not Job.objects.exists()


def test_update_makes_a_version_and_skips_no_op(workspace, owner, admin_user):
    job = create(workspace, owner)
    job = services.job_update(job=job, user=admin_user, data={"instructions": "New steps."})
    assert (job.revision, job.updated_by, job.instructions) == (2, admin_user, "New steps.")
    latest = job.history.first()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "edited")
    services.job_update(job=job, user=admin_user, data={"instructions": "New steps."})
    assert job.history.count() == 2


def test_update_to_taken_name_changes_nothing(workspace, owner):
    create(workspace, owner, name="First")
    second = create(workspace, owner, name="Second")
    with pytest.raises(ValidationError):
        services.job_update(job=second, user=owner, data={"name": "FIRST"})
    second.refresh_from_db()
    assert (second.name, second.revision, second.history.count()) == ("Second", 1, 1)


def test_stale_revision_is_a_conflict_and_nothing_is_lost(workspace, owner, admin_user):
    job = create(workspace, owner)
    opened_at = job.revision
    services.job_update(
        job=job, user=owner, data={"instructions": "Owner's text."}, expected_revision=opened_at
    )
    with pytest.raises(services.JobConflict) as exc:
        services.job_update(
            job=job,
            user=admin_user,
            data={"instructions": "Admin's text."},
            expected_revision=opened_at,
        )
    assert exc.value.attempted["instructions"] == "Admin's text."
    assert exc.value.current.instructions == "Owner's text."
    job.refresh_from_db()
    assert job.instructions == "Owner's text."


def test_delete_and_restore(workspace, owner):
    job = create(workspace, owner)
    services.job_delete(job=job, user=owner)
    job.refresh_from_db()
    assert job.is_deleted
    assert job.history.first().history_change_reason == "deleted"
    with pytest.raises(ValidationError):
        services.job_update(job=job, user=owner, data={"name": "Edited while deleted"})
    # The name is free while the job is deleted ...
    services.job_restore_deleted(job=job, user=owner)
    job.refresh_from_db()
    assert not job.is_deleted
    assert job.history.first().history_change_reason == "restored"


def test_restore_refused_when_name_was_taken_meanwhile(workspace, owner):
    job = create(workspace, owner, name="Callback")
    services.job_delete(job=job, user=owner)
    create(workspace, owner, name="CALLBACK")
    with pytest.raises(ValidationError) as exc:
        services.job_restore_deleted(job=job, user=owner)
    assert "Another job is already called “Callback”" in exc.value.messages[0]
    job.refresh_from_db()
    assert job.is_deleted


def test_save_job_as_template_and_delete_it(workspace, owner):
    job = JobFactory(workspace=workspace)
    template = services.template_create_from_job(job=job, user=owner, name="")
    assert (template.workspace, template.name, template.instructions) == (
        workspace,
        job.name,
        job.instructions,
    )
    with pytest.raises(ValidationError):
        services.template_create_from_job(job=job, user=owner, name=job.name.upper())
    services.template_delete(template=template, user=owner)
    assert not JobTemplate.objects.filter(pk=template.pk).exists()


def test_builtin_templates_are_read_only(owner):
    builtin = JobTemplate.objects.filter(workspace__isnull=True).first()
    with pytest.raises(ValidationError, match="read-only"):
        services.template_delete(template=builtin, user=owner)
    assert JobTemplate.objects.filter(pk=builtin.pk).exists()


def test_builtin_templates_present_after_migrate(db):
    builtins = JobTemplate.objects.filter(workspace__isnull=True)
    names = {t.name.lower() for t in builtins}
    for required in [
        "take a message",
        "qualify a lead",
        "escalate to a person",
        "troubleshoot a problem",
        "schedule an appointment",
        "send an intake form",
        "answer after-hours calls",
    ]:
        assert required in names
    for template in builtins:
        template.full_clean()
        assert len(template.instructions) > 400 and "1." in template.instructions


def test_crlf_line_breaks_count_as_one_character(workspace, owner):
    text = "\r\n".join(["x" * 99] * 100)  # 9,999 characters as the browser's counter shows
    job = create(workspace, owner, instructions=text)
    assert job.instructions == "\n".join(["x" * 99] * 100)
    assert len(job.instructions) == 9_999


# Import ------------------------------------------------------------------------------------


def import_records(count, prefix="Job"):
    return [{**VALID, "name": f"{prefix} {i}"} for i in range(count)]


@pytest.mark.parametrize("size", [20, 200])
def test_import_query_count_does_not_grow_with_the_file(
    workspace, owner, size, django_assert_max_num_queries
):
    # Half the file updates existing jobs, half creates new ones.
    for i in range(size // 2):
        JobFactory(workspace=workspace, name=f"Job {i}", description="Old.")

    # About ten queries at any size (lookup, lock, bulk writes, the call flows' notice). SQLite
    # splits bulk inserts into ~60-row batches (999 parameters), hence the slack; a query per
    # record would need hundreds.
    with django_assert_max_num_queries(18):  # incl. the role check and the one audit event
        result = services.job_import(workspace=workspace, user=owner, records=import_records(size))

    assert (len(result.created), len(result.updated)) == (size - size // 2, size // 2)
    assert Job.history.filter(history_change_reason="imported").count() == size


def test_import_tells_call_flows_which_jobs_changed_inside_the_transaction(workspace, owner):
    old = JobFactory(workspace=workspace, name="Job 0", description="Old.")
    JobFactory(workspace=workspace, name="Job 1", **{k: VALID[k] for k in VALID if k != "name"})
    calls = []

    def receiver(sender, job_ids, **kwargs):
        calls.append((sender, sorted(job_ids), transaction.get_connection().in_atomic_block))

    job_changed.connect(receiver, dispatch_uid="test-import")
    try:
        services.job_import(workspace=workspace, user=owner, records=import_records(3))
    finally:
        job_changed.disconnect(dispatch_uid="test-import")

    # Job 1 is unchanged and Job 2 is new: neither needs a notice.
    assert calls == [(Job, [old.pk], True)]


def test_import_refuses_text_the_database_cannot_store(workspace, owner):
    records = [*import_records(2), {**VALID, "name": "Bad", "trigger": "Hi\x00"}]

    with pytest.raises(ValidationError) as exc:
        services.job_import(workspace=workspace, user=owner, records=records)

    assert exc.value.messages[0].startswith("record 3 ('Bad'), field 'trigger': The text contains")
    assert not Job.objects.exists()


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_import_waits_for_a_concurrent_edit_and_keeps_it(workspace, owner, admin_user):
    """The import locks the jobs it updates, so an edit committed meanwhile is not overwritten."""
    job = JobFactory(workspace=workspace, name="Shared", description="Before.")
    edited = threading.Event()

    def editor():
        try:
            with transaction.atomic():
                services.job_update(job=job, user=admin_user, data={"description": "Theirs."})
                edited.set()
                time.sleep(0.5)  # still uncommitted while the import starts
        finally:
            connection.close()

    thread = threading.Thread(target=editor)
    thread.start()
    edited.wait(5)
    services.job_import(
        workspace=workspace,
        user=owner,
        records=[{"name": "Shared", "instructions": "1. Imported steps."}],
    )
    thread.join()

    job.refresh_from_db()
    assert (job.description, job.instructions, job.revision) == (
        "Theirs.",
        "1. Imported steps.",
        3,
    )
    assert [h.history_change_reason for h in job.history.order_by("history_id")][-2:] == [
        "edited",
        "imported",
    ]


# What the import writes equals what the per-row services write (but the change reason).
_NOT_COMPARED = {"id", "history_id", "history_date", "created_at", "updated_at"}


def _row(obj, *, workspace_id):
    values = {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in _NOT_COMPARED
    }
    assert values.pop("workspace_id") == workspace_id
    return values


def _history(job, workspace_id):
    return [_row(h, workspace_id=workspace_id) for h in job.history.order_by("history_id")]


def test_an_import_writes_the_rows_and_history_the_per_row_services_write(workspace, owner):
    other = WorkspaceFactory()
    MembershipFactory(workspace=other, user=owner, role="owner")
    texts = {**VALID, "name": "Kept"}
    per_row = {"Kept": create(workspace, owner, **texts), "New": create(workspace, owner)}
    services.job_update(job=per_row["Kept"], user=owner, data={"description": "Changed."})
    imported_kept = services.job_create(workspace=other, user=owner, data=texts)

    services.job_import(
        workspace=other,
        user=owner,
        records=[{"name": "Kept", "description": "Changed."}, VALID],
    )

    imported = {"Kept": imported_kept, "New": Job.objects.get(workspace=other, name=VALID["name"])}
    per_row["New"] = Job.objects.get(pk=per_row["New"].pk)  # named VALID["name"] in both
    for name, job in per_row.items():
        twin = Job.objects.get(pk=imported[name].pk)
        job.refresh_from_db()
        assert _row(twin, workspace_id=other.pk) == _row(job, workspace_id=workspace.pk)
        assert twin.updated_at >= twin.created_at
        expected = _history(job, workspace.pk)
        for entry in expected[-1:]:  # the import's version says so; earlier ones are the same
            entry["history_change_reason"] = "imported"
        assert _history(twin, other.pk) == expected
    assert [h.history_type for h in imported_kept.history.order_by("history_id")] == ["+", "~"]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_bad_record_anywhere_writes_nothing_and_is_named(workspace, owner, where):
    JobFactory(workspace=workspace, name="Job 1", description="Old.")
    records = import_records(9)
    bad = {"first": 0, "middle": 4, "last": 8}[where]
    records[bad] = {**records[bad], "trigger": "x" * 501}
    history = Job.history.count()

    with pytest.raises(services.JobImportError) as exc:
        services.job_import(workspace=workspace, user=owner, records=records)

    assert exc.value.messages == [
        f"record {bad + 1} ('Job {bad}'), field 'trigger': "
        "Ensure this value has at most 500 characters (it has 501)."
    ]
    assert Job.objects.get(workspace=workspace).description == "Old."
    assert Job.history.count() == history


def test_an_import_names_every_bad_record_in_file_order(workspace, owner):
    JobFactory(workspace=workspace, name="Job 2", revision=3)
    records = import_records(6)
    records[0] = {**records[0], "colour": "red"}  # found by the first pass
    records[2] = {**records[2], "revision": 1}  # found against the stored job
    records[5] = {**records[5], "name": "Job 1"}  # a duplicate name

    with pytest.raises(services.JobImportError) as exc:
        services.job_import(workspace=workspace, user=owner, records=records)

    assert [message.split(":")[0] for message in exc.value.messages] == [
        "record 1 ('Job 0'), field 'colour'",
        "record 3 ('Job 2'), field 'revision'",
        "record 6 ('Job 1'), field 'name'",
    ]
    assert Job.objects.count() == 1


def test_a_file_bad_throughout_is_refused_with_a_short_message(workspace, owner):
    records = [{**record, "instructions": ""} for record in import_records(250)]

    with pytest.raises(services.JobImportError) as exc:
        services.job_import(workspace=workspace, user=owner, records=records)

    assert len(exc.value.messages) == 21
    assert exc.value.messages[-1] == "… and 230 more bad records."
    assert not Job.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite batches by 999 parameters a query"
)
@pytest.mark.parametrize("size", [900, 4_000])
def test_import_queries_grow_only_per_batch_of_900(
    workspace, owner, size, django_assert_max_num_queries
):
    # Half updates, half new: the lookup, the locks, the UPDATEs, the INSERTs of jobs and of
    # history rows each take one query per batch of 900 records.
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Job {i}", description="Old.", instructions="1. Old.")
        for i in range(size // 2)
    )
    batches = -(-size // 900)

    with django_assert_max_num_queries(15 + 4 * (batches - 1)):
        result = services.job_import(workspace=workspace, user=owner, records=import_records(size))

    assert (len(result.created), len(result.updated)) == (size - size // 2, size // 2)
    assert Job.history.filter(history_change_reason="imported").count() == size
