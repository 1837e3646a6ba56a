from django.core.management.base import CommandError

from core.management.base import ServiceCommand
from outcomes.alerts import AlertCheckFailed, check_alerts
from workspaces.management.base import get_workspace


class Command(ServiceCommand):
    help = (
        "Check the alert rules once, as Celery beat does every ALERT_CHECK_SECONDS (for cron "
        "users and tests): raise each new breach once (email, webhook), resolve the alerts "
        "whose condition cleared, and print both. A system job: it acts as no user."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Only this workspace (its slug).")

    def handle(self, *args, workspace, **options):
        target = get_workspace(workspace) if workspace else None
        try:
            result = check_alerts(workspace=target)
        except AlertCheckFailed as exc:
            self._print(exc.result)
            raise CommandError(str(exc)) from exc
        self._print(result)

    def _print(self, result):
        for alert in result.raised:
            self.stdout.write(f"Raised ({alert.workspace.slug}): {alert.message}")
        for alert in result.resolved:
            self.stdout.write(f"Resolved ({alert.workspace.slug}): {alert.message}")
        self.stdout.write(
            f"Checked {result.workspaces:,} workspace(s): {len(result.raised):,} alert(s) raised, "
            f"{len(result.resolved):,} resolved."
        )
