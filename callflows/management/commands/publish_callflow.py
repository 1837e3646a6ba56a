from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from callflows.checks import draft_problems
from callflows.services import callflow_publish
from workspaces.errors import error_messages
from workspaces.management.base import ServiceCommand, get_user

from ._args import get_phone_number


class Command(ServiceCommand):
    help = (
        "Publish the draft call flow of a phone number as a new live version. The draft is "
        "checked first: warnings are printed and publishing goes on; errors refuse it (exit 1), "
        "and so do failing saved test cases unless --publish-anyway gives a reason."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--number", required=True, help="The phone number, E.164 (+15551234567)."
        )
        parser.add_argument("--user", required=True, help="Email of the user who publishes.")
        parser.add_argument("--note", default="", help="What changed, for the versions list.")
        parser.add_argument(
            "--publish-anyway",
            default="",
            metavar="REASON",
            help="Publish although saved test cases fail, for this reason (kept on the version).",
        )

    def handle(self, *args, number, user, note, publish_anyway, **options):
        phone = get_phone_number(number)
        acting = get_user(user)
        try:
            version = callflow_publish(
                call_flow=phone.call_flow, user=acting, note=note, override_reason=publish_anyway
            )
        except ValidationError as exc:  # errors of the checks: one per line
            raise CommandError("\n".join(error_messages(exc))) from exc
        self.stdout.write(
            f"Published version {version.number} of {phone.number} ({phone.display_name})."
        )
        # Warnings never stop a publish; printed after it (the role check has passed by then),
        # about exactly what went live.
        for problem in draft_problems(phone.call_flow, version.snapshot):
            self.stderr.write(f"Warning: {problem.message}")
