from core.management.base import ServiceCommand
from workspaces.management.base import get_user, get_workspace
from workspaces.services import api_token_create


class Command(ServiceCommand):
    help = "Create an API token for the telephony runtime. The token is printed once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'Telephony runtime'."
        )
        parser.add_argument(
            "--user", required=True, help="Email of an owner of the workspace, who creates it."
        )

    def handle(self, *args, workspace, name, user, **options):
        workspace = get_workspace(workspace)
        created = api_token_create(workspace=workspace, name=name, user=get_user(user))
        self.stderr.write(
            f"Created token {created.token.name!r} for {workspace.slug}. Copy it now: it is not shown again."
        )
        self.stdout.write(created.raw)
