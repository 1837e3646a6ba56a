"""The tenancy lookups shared by the commands (one clear error for each miss) and the export
command; the command base itself is core.management.base.ServiceCommand."""

import json

from django.core.management.base import CommandError

from core.management.base import ServiceCommand
from workspaces.models import User, Workspace


def get_workspace(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise CommandError(f"No workspace with the slug {slug!r}.") from None


def get_user(email: str) -> User:
    """The active user a command acts as; the service then checks their role."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CommandError(f"No active user with the email {email!r}.")
    return user


class ExportCommand(ServiceCommand):
    """`--workspace SLUG [--output FILE]`: a workspace's records as JSON. Subclasses set `what`
    (e.g. "job(s)") and `export(workspace) -> list[dict]`."""

    what = "record(s)"

    def export(self, workspace) -> list[dict]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, workspace, output, **options):
        records = self.export(get_workspace(workspace))
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
        self.write_output(text, output, f"Exported {len(records)} {self.what} to {output}.")
