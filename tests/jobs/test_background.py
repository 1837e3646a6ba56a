"""import_jobs hands files of more than JOBS_IMPORT_BACKGROUND_OVER jobs to a worker
(jobs/tasks.py), recorded on an ImportRun; in eager mode (no broker) it runs in-process."""

import pytest
from django.core.management import CommandError

from jobs import tasks
from jobs.models import Job
from tests.jobs.test_commands import import_jobs, record, write_json
from workspaces.models import AuditEvent, ImportFile, ImportRun

# Committed for real: the command waits for its run, which starts when the commit happens.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _small_threshold(settings):
    settings.JOBS_IMPORT_BACKGROUND_OVER = 2


def test_a_large_file_is_imported_as_a_run_and_the_command_waits(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record(f"Job {n}") for n in range(3)])
    out, _ = import_jobs(path, workspace, owner)
    run = ImportRun.objects.get()
    assert out.strip() == f"Import #{run.pk}: created 3, updated 0, left 0 unchanged."
    assert (run.kind, run.status, run.created_count, run.created_by) == ("jobs", "done", 3, owner)
    assert Job.objects.filter(workspace=workspace).count() == 3
    assert not ImportFile.objects.exists()  # the file's bytes are not kept


def test_a_small_file_is_imported_in_the_command(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("One"), record("Two")])
    out, _ = import_jobs(path, workspace, owner)
    assert "created 2, updated 0, left 0 unchanged." in out and not ImportRun.objects.exists()


def test_a_dry_run_never_goes_to_the_background(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record(f"Job {n}") for n in range(3)])
    out, _ = import_jobs(path, workspace, owner, "--dry-run")
    assert out.startswith("Dry run, nothing saved: would have created 3")
    assert not ImportRun.objects.exists() and not Job.objects.exists()


def test_a_bad_record_fails_the_run_and_the_command(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("One"), record("Two"), record("Three", instructions="")])
    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)
    run = ImportRun.objects.get()
    assert str(error.value).startswith("Nothing imported. record 3 ('Three')")
    assert run.status == "failed" and run.error.startswith("record 3 ('Three')")
    assert not Job.objects.exists()


def test_no_wait_prints_the_run_number(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record(f"Job {n}") for n in range(3)])
    out, _ = import_jobs(path, workspace, owner, "--no-wait")
    run = ImportRun.objects.get()
    assert out.strip() == f"Queued as import #{run.pk}; a worker imports it."


def test_the_task_twice_imports_once(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record(f"Job {n}") for n in range(3)])
    import_jobs(path, workspace, owner)
    run = ImportRun.objects.get()
    tasks.import_jobs(run.pk)
    assert Job.objects.count() == 3
    assert AuditEvent.objects.filter(action="job.imported").count() == 1


def test_a_member_cannot_start_one(workspace, member, tmp_path):
    path = write_json(tmp_path, [record(f"Job {n}") for n in range(3)])
    with pytest.raises(CommandError):
        import_jobs(path, workspace, member)
    assert not ImportRun.objects.exists() and not Job.objects.exists()


def test_the_task_has_a_total_deadline():
    assert (tasks.import_jobs.soft_time_limit, tasks.import_jobs.time_limit) == (300, 330)
