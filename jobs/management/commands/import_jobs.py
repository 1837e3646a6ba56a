from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from jobs.services import job_import
from workspaces.errors import error_messages
from workspaces.management.base import ServiceCommand, get_user, get_workspace
from workspaces.text import check_data, parse_json


class Command(ServiceCommand):
    help = (
        "Import jobs from a JSON file (a list of objects with name, description, trigger, "
        "instructions). All or nothing: one bad record imports nothing. A job whose name "
        "exists is updated as a new history version."
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

    def handle(self, *args, file, workspace, user, dry_run, **options):
        workspace, user = get_workspace(workspace), get_user(user)
        try:
            with open(file, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            records = parse_json(data, file)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        try:
            check_data(records, "The file")
        except ValidationError as exc:
            raise CommandError(f"Nothing imported. {' '.join(exc.messages)}") from exc
        try:
            result = job_import(workspace=workspace, user=user, records=records, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(f"Nothing imported. {' '.join(error_messages(exc))}") from exc
        prefix = "Dry run, nothing saved: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}created {len(result.created)}, updated {len(result.updated)}, "
            f"left {len(result.unchanged)} unchanged."
        )
