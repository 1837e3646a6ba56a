"""What the calls commands share: the number, the acting user's READ role, the version."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from callflows.management.commands._args import get_phone_number
from callflows.models import PhoneNumber
from calls.selectors import mock
from core.management.base import ServiceCommand
from workspaces.management.base import get_user
from workspaces.permissions import READ, require_role


class CallsCommand(ServiceCommand):
    """--number, --version draft|live, --json and --user, for the commands that test a flow."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version draft|live is these commands' contract; Django's own --version yields.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        add_common_arguments(parser)


def add_common_arguments(parser) -> None:
    parser.add_argument("--number", required=True, help="The phone number, E.164 (+15551234567).")
    parser.add_argument(
        "--version",
        choices=mock.VERSIONS,
        default=mock.DRAFT,
        help="Test the draft (default) or the live version.",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="Print one JSON object per line instead of text.",
    )
    parser.add_argument(
        "--user", required=True, help="Email of the user the command acts as (any member)."
    )


def target(phone: PhoneNumber, version: str, step_key: str = "") -> mock.Target:
    """mock.target, with the step keys there are when the one asked for is not."""
    try:
        return mock.target(call_flow=phone.call_flow, version=version, step_key=step_key)
    except ValidationError as exc:
        if exc.code != "unknown_step":
            raise
        snapshot, _ = mock.snapshot_of(phone.call_flow, version)
        keys = ", ".join(f"{s['key']} ({s['name']})" for s in mock.sona_steps(snapshot))
        raise CommandError(f"{exc.message} Its Sona steps: {keys}.") from exc


def number_for(number: str, user: str, action: str) -> PhoneNumber:
    """The phone number, once the acting user is known to be a member of its workspace."""
    phone = get_phone_number(number)
    require_role(get_user(user), phone.workspace, READ, action)
    return phone
