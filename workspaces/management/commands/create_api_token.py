from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workspaces.services import api_token_create

from ._args import get_workspace


class Command(BaseCommand):
    help = "Create an API token for the telephony runtime. The token is printed once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'Telephony runtime'."
        )

    def handle(self, *args, workspace, name, **options):
        workspace = get_workspace(workspace)
        try:
            created = api_token_create(workspace=workspace, name=name, user=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"Created token {created.token.name!r} for {workspace.slug}. Copy it now: it is not shown again."
        )
        self.stdout.write(created.raw)
