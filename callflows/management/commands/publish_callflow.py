from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from callflows.services import callflow_publish

from ._args import get_member, get_phone_number


class Command(BaseCommand):
    help = "Publish the draft call flow of a phone number as a new live version."

    def add_arguments(self, parser):
        parser.add_argument(
            "--number", required=True, help="The phone number, E.164 (+15551234567)."
        )
        parser.add_argument("--user", required=True, help="Email of the user who publishes.")
        parser.add_argument("--note", default="", help="What changed, for the versions list.")

    def handle(self, *args, number, user, note, **options):
        phone = get_phone_number(number)
        user = get_member(user, phone)
        try:
            version = callflow_publish(call_flow=phone.call_flow, user=user, note=note)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Published version {version.number} of {phone.number} ({phone.display_name})."
        )
