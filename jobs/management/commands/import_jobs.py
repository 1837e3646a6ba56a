import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from core.errors import error_messages
from core.management.base import ServiceCommand
from jobs.services import JobsFileUnreadable, job_import, job_import_start, job_records
from workspaces.imports import time_limit
from workspaces.management.base import get_user, get_workspace
from workspaces.models import ImportRun

WAIT_POLL = 0.5  # seconds between looks at a background run


class Command(ServiceCommand):
    help = (
        "Import jobs from a JSON file (a list of objects with name, description, trigger, "
        "instructions). All or nothing: one bad record imports nothing. A job whose name "
        "exists is updated as a new history version. A file of more than "
        f"{settings.JOBS_IMPORT_BACKGROUND_OVER:,} jobs is imported by a background worker "
        "(in this process when no broker is configured); the command waits for it unless "
        "--no-wait."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, as written by export_jobs.")
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument(
            "--user", required=True, help="Email of the user the changes are made as."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, change nothing."
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="For a file imported in the background: print the import's number and "
            "return at once (support staff follow it in the admin, under Import runs).",
        )

    def handle(self, *args, file, workspace, user, dry_run, no_wait, **options):
        workspace, user = get_workspace(workspace), get_user(user)
        try:
            with open(file, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            records = job_records(data, file)
            if not dry_run and _count(records) > settings.JOBS_IMPORT_BACKGROUND_OVER:
                return self._background(workspace, user, file, data, no_wait)
            result = job_import(workspace=workspace, user=user, records=records, dry_run=dry_run)
        except JobsFileUnreadable as exc:
            raise CommandError(" ".join(error_messages(exc))) from exc
        except ValidationError as exc:
            raise CommandError(f"Nothing imported. {' '.join(error_messages(exc))}") from exc
        prefix = "Dry run, nothing saved: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}created {len(result.created)}, updated {len(result.updated)}, "
            f"left {len(result.unchanged)} unchanged."
        )

    def _background(self, workspace, user, file, data, no_wait):
        run = job_import_start(workspace=workspace, user=user, name=file, data=data)
        if no_wait:
            self.stdout.write(f"Queued as import #{run.pk}; a worker imports it.")
            return
        # Eager mode (no broker) has finished by now; a worker gets its deadline and a margin.
        deadline = time.monotonic() + time_limit(ImportRun.Kind.JOBS) + 60
        run.refresh_from_db()
        while not run.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Import #{run.pk} has not finished; is a worker running (make worker)?"
                )
            time.sleep(WAIT_POLL)
            run.refresh_from_db()
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(f"Nothing imported. {run.error}")
        self.stdout.write(f"Import #{run.pk}: {run.summary}")


def _count(records) -> int:
    return len(records) if isinstance(records, list) else 0
