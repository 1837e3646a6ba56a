from django.core.management.base import CommandError

from core.diff import unified_diff
from core.management.base import ServiceCommand
from jobs import optimizer, services
from jobs.models import Job
from workspaces.management.base import get_user, get_workspace


class Command(ServiceCommand):
    help = "Optimize a stored job's instructions (a new history version) and print a unified diff."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--job", required=True, help="Job name (any case).")
        parser.add_argument(
            "--user", required=True, help="Email of the user the change is made as."
        )
        parser.add_argument("--dry-run", action="store_true", help="Print the diff, save nothing.")

    def handle(self, *args, workspace, job, user, dry_run, **options):
        workspace, user = get_workspace(workspace), get_user(user)
        found = Job.objects.filter(
            workspace=workspace, deleted_at__isnull=True, name__iexact=job.strip()
        ).first()
        if found is None:
            raise CommandError(f"No job called {job!r} in the workspace {workspace.slug!r}.")
        before = found.instructions
        try:
            if dry_run:
                result = optimizer.optimize(before, trigger=found.trigger)
                after = before if result.already_optimized else result.text
            else:
                optimized = services.job_optimize(
                    job=found, user=user, expected_revision=found.revision
                )
                found, result = optimized.job, optimized.result
                after = found.instructions
        except (ValueError, optimizer.OptimizeRefused) as exc:
            raise CommandError(str(exc)) from exc
        except services.JobConflict as exc:
            raise CommandError(f"{exc} Nothing was saved; run the command again.") from exc
        if result.notice:
            self.stderr.write(result.notice)
        if after == before:
            self.stdout.write("Already optimized: nothing to change.")
            return
        self.stdout.write(unified_diff(before, after), ending="")
        self.stderr.write(
            "Dry run: nothing saved." if dry_run else f"Saved as a new version of {found.name!r}."
        )
