from callflows.services import callflow_publish
from workspaces.management.base import ServiceCommand, get_user

from ._args import get_phone_number


class Command(ServiceCommand):
    help = "Publish the draft call flow of a phone number as a new live version."

    def add_arguments(self, parser):
        parser.add_argument(
            "--number", required=True, help="The phone number, E.164 (+15551234567)."
        )
        parser.add_argument("--user", required=True, help="Email of the user who publishes.")
        parser.add_argument("--note", default="", help="What changed, for the versions list.")

    def handle(self, *args, number, user, note, **options):
        phone = get_phone_number(number)
        version = callflow_publish(call_flow=phone.call_flow, user=get_user(user), note=note)
        self.stdout.write(
            f"Published version {version.number} of {phone.number} ({phone.display_name})."
        )
