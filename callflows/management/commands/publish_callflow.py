from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from callflows.checks import TESTS_FAILED, draft_problems, more_warnings
from callflows.services import callflow_publish
from core.errors import error_messages
from core.management.base import ServiceCommand
from workspaces.management.base import get_user

from ._args import get_phone_number


class Command(ServiceCommand):
    help = (
        "Publish the draft call flow of a phone number as a new live version. The draft is "
        "checked first: warnings are printed and publishing goes on; errors refuse it (exit 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--number", required=True, help="The phone number, E.164 (+15551234567)."
        )
        parser.add_argument("--user", required=True, help="Email of the user who publishes.")
        parser.add_argument("--note", default="", help="What changed, for the versions list.")
        parser.add_argument(
            "--override-reason",
            default="",
            help="Publish although scenarios fail, and say why (kept on the version "
            "and in the activity log). Errors of the checks still refuse.",
        )

    def handle(self, *args, number, user, note, override_reason, **options):
        phone = get_phone_number(number)
        acting = get_user(user)
        try:
            version = callflow_publish(
                call_flow=phone.call_flow,
                user=acting,
                note=note,
                override_reason=override_reason,
            )
        except ValidationError as exc:  # errors of the checks: one per line
            lines = error_messages(exc)
            if TESTS_FAILED in lines:
                lines.append("To publish anyway, give --override-reason with why.")
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(
            f"Published version {version.number} of {phone.number} ({phone.display_name})."
        )
        if version.override_reason:
            self.stderr.write(f"Published although scenarios fail: {version.override_reason}")
        # Warnings never stop a publish; printed after it (the role check has passed by then),
        # about exactly what went live.
        snapshot = version.snapshot
        for problem in draft_problems(phone.call_flow, snapshot) + more_warnings(
            phone.call_flow, snapshot
        ):
            self.stderr.write(f"Warning: {problem.message}")
