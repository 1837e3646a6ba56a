from django.core.management.base import CommandError

from callflows.services import callflow_rollback
from core.management.base import ServiceCommand
from workspaces.management.base import get_user

from ._args import get_phone_number


class Command(ServiceCommand):
    help = "Publish an earlier version of a phone number's call flow again (as a new version)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version N is this command's contract; Django's own --version (its release) yields.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--number", required=True, help="The phone number, E.164 (+15551234567)."
        )
        parser.add_argument(
            "--version", required=True, type=int, help="The version number to publish again."
        )
        parser.add_argument("--user", required=True, help="Email of the user who rolls back.")

    def handle(self, *args, number, version, user, **options):
        phone = get_phone_number(number)
        user = get_user(user)
        old = phone.call_flow.versions.filter(number=version).first()
        if old is None:
            raise CommandError(f"{phone.number} has no version {version}.")
        created = callflow_rollback(call_flow=phone.call_flow, version=old, user=user)
        self.stdout.write(
            f"Published version {old.number} again as version {created.number} of {phone.number}."
        )
