from django.core.management.base import CommandError

from core.management.base import ServiceCommand
from workspaces.management.base import get_user, get_workspace
from workspaces.models import ApiToken
from workspaces.services import api_token_revoke


class Command(ServiceCommand):
    help = (
        "Revoke an API token of a workspace, found by its first characters "
        "(shown on the tokens page). Every server refuses it from its next request on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--prefix", required=True, help="The token's first characters.")
        parser.add_argument("--user", required=True, help="Email of an owner of the workspace.")

    def handle(self, *args, workspace, prefix, user, **options):
        workspace = get_workspace(workspace)
        tokens = list(ApiToken.objects.filter(workspace=workspace, prefix__startswith=prefix[:10]))
        if not prefix.strip() or not tokens:
            raise CommandError(f"No API token of {workspace.slug} starts with {prefix!r}.")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} tokens start with {prefix!r}: give more of it.")
        token = api_token_revoke(token=tokens[0], user=get_user(user))
        self.stdout.write(f"Revoked token {token.name!r} ({token.prefix}…) of {workspace.slug}.")
