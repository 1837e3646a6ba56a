from core.management.base import ServiceCommand
from webhooks.services import webhook_add
from workspaces.management.base import get_user, get_workspace


class Command(ServiceCommand):
    help = (
        "Add a webhook endpoint to a workspace. Its signing secret is printed once; copy it "
        "to the receiver."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument(
            "--user", required=True, help="Email of an owner of the workspace, who adds it."
        )
        parser.add_argument("--url", required=True, help="The endpoint's https:// URL.")
        parser.add_argument(
            "--events",
            required=True,
            help="Comma-separated events: call.reported, callflow.published, alert.raised.",
        )
        parser.add_argument("--description", default="", help="What receives the events.")

    def handle(self, *args, workspace, user, url, events, description, **options):
        workspace = get_workspace(workspace)
        created = webhook_add(
            workspace=workspace,
            user=get_user(user),
            url=url,
            events=[e.strip() for e in events.split(",") if e.strip()],
            description=description,
        )
        self.stderr.write(
            f"Added webhook {created.endpoint.url} to {workspace.slug}. "
            "Copy its signing secret now: it is not shown again."
        )
        self.stdout.write(created.secret)
