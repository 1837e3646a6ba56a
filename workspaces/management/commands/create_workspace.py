from core.management.base import ServiceCommand
from workspaces.management.base import get_user
from workspaces.services import workspace_create


class Command(ServiceCommand):
    help = "Create a workspace owned by an existing user."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Workspace name, e.g. 'Acme Plumbing'.")
        parser.add_argument("--owner-email", required=True, help="Email of an existing user.")
        parser.add_argument("--slug", default="", help="URL slug (default: made from the name).")
        parser.add_argument(
            "--country",
            default="US",
            help="ISO 3166-1 code, e.g. US or GB (default US): phone numbers typed without "
            "+country code are read as numbers of this country.",
        )

    def handle(self, *args, name, owner_email, slug, country, **options):
        owner = get_user(owner_email)
        workspace = workspace_create(name=name, owner=owner, slug=slug, country=country)
        self.stdout.write(
            f"Created workspace {workspace.name!r} (slug {workspace.slug}) owned by {owner.email}."
        )
