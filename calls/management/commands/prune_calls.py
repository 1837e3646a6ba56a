from calls import services
from core.management.base import ServiceCommand
from workspaces.management.base import get_workspace


def _days(days: int | None) -> str:
    return f"{days:,} day" + ("" if days == 1 else "s")


class Command(ServiceCommand):
    help = (
        "Delete the calls older than each workspace's call retention and clear the transcripts "
        "(keeping the summaries) older than its transcript retention, in short batches so "
        "reports and pages go on meanwhile. A system job: it applies each owner's own setting, "
        "so it acts as no user. --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be pruned; change nothing."
        )
        parser.add_argument("--workspace", help="Only this workspace (its slug).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=services.PRUNE_BATCH,
            help=f"Ids per DELETE/UPDATE, each its own transaction (default {services.PRUNE_BATCH:,}).",
        )

    def handle(self, *args, dry_run, workspace, batch_size, **options):
        target = get_workspace(workspace) if workspace else None
        results = services.calls_prune(workspace=target, dry_run=dry_run, batch_size=batch_size)
        would = "would delete" if dry_run else "deleted"
        clear = "would clear" if dry_run else "cleared"
        for r in results:
            line = (
                f"{r.workspace.slug}: {would} {r.calls_deleted:,} call(s) older than "
                f"{_days(r.call_days)}"
            )
            if r.transcript_days is not None and r.transcript_days < r.call_days:
                line += (
                    f"; {clear} {r.transcripts_cleared:,} transcript(s) older than "
                    f"{_days(r.transcript_days)}"
                )
            self.stdout.write(line + ".")
        calls = sum(r.calls_deleted for r in results)
        transcripts = sum(r.transcripts_cleared for r in results)
        total = f"Total: {would} {calls:,} call(s), {clear} {transcripts:,} transcript(s)"
        self.stdout.write(total + (". Dry run: nothing was changed." if dry_run else "."))
