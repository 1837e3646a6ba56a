from datetime import date

from django.core.management.base import CommandError

from calls import rollups
from core.management.base import ServiceCommand
from workspaces.management.base import get_workspace
from workspaces.models import Workspace


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name}: a date as YYYY-MM-DD.") from None


class Command(ServiceCommand):
    help = (
        "Recompute the daily rollups (real calls per number, step, job, version, day and "
        "outcome) from the calls: every workspace or one, all days or a range (days in each "
        "workspace's zone). Idempotent; one transaction per workspace, the counts inserted in "
        "batches. A system job: it acts as no user."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Only this workspace (its slug).")
        parser.add_argument("--since", help="From this day (YYYY-MM-DD), inclusive.")
        parser.add_argument("--until", help="To this day (YYYY-MM-DD), inclusive.")

    def handle(self, *args, workspace, since, until, **options):
        start, end = _date(since, "--since"), _date(until, "--until")
        if start and end and start > end:
            raise CommandError("--since is after --until.")
        targets = [get_workspace(workspace)] if workspace else Workspace.objects.order_by("slug")
        total = 0
        for ws in targets:
            rows = rollups.rebuild(ws, since=start, until=end)
            total += rows
            self.stdout.write(f"{ws.slug}: {rows:,} rollup row(s).")
        self.stdout.write(f"Total: {total:,} rollup row(s).")
