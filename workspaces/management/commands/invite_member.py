from core.management.base import ServiceCommand
from workspaces.management.base import get_user, get_workspace
from workspaces.services import invitation_send


class Command(ServiceCommand):
    help = (
        "Invite an email to a workspace with a role: the person gets an email with a link and "
        "joins only when they accept. Links use the PLAYBOOK_BASE_URL setting."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--email", required=True, help="Email address to invite.")
        parser.add_argument(
            "--role", required=True, choices=["owner", "admin", "member"], help="Role on joining."
        )
        parser.add_argument(
            "--user", required=True, help="Email of an owner of the workspace, who invites."
        )

    def handle(self, *args, workspace, email, role, user, **options):
        workspace = get_workspace(workspace)
        invitation = invitation_send(
            workspace=workspace, email=email, role=role, user=get_user(user)
        )
        self.stdout.write(
            f"Invitation sent to {invitation.email} for {workspace.slug} "
            f"({invitation.get_role_display()}); it expires on "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        )
