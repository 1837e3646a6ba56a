from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from callflows.management.commands._args import get_phone_number
from calls import services
from core.errors import error_messages
from core.management.base import ServiceCommand
from workspaces.management.base import get_user

BAD_INPUT = 2


class Command(ServiceCommand):
    help = (
        "Import a scenarios file (YAML: `step`, then `scenarios`, each with name, turns and "
        "expect) into a Sona step of a number: each scenario is added, or replaces the one of "
        "the same name. All or nothing: a bad file changes nothing and the error names the "
        "scenario and the field (exit status 2). As an owner or admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--number", required=True, help="The phone number, E.164.")
        parser.add_argument("--user", required=True, help="Email of the owner or admin acting.")
        parser.add_argument("file", help="The scenarios file (YAML, UTF-8).")

    def handle(self, *args, number, user, file, **options):
        try:
            with open(file, encoding="utf-8-sig") as fh:
                text = fh.read()
        except OSError as exc:
            raise CommandError(
                f"Cannot read {file}: {exc.strerror}.", returncode=BAD_INPUT
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"Cannot read {file}: it is not UTF-8 text.", returncode=BAD_INPUT
            ) from exc
        phone = get_phone_number(number)
        try:
            result = services.scenarios_import(
                call_flow=phone.call_flow, user=get_user(user), text=text
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(
                f"Nothing was imported: {' '.join(error_messages(exc))}", returncode=BAD_INPUT
            ) from exc
        self.stdout.write(
            f"Imported {len(result.created) + len(result.replaced)} scenario(s) into step "
            f"{result.step_key} of {phone.number}: {len(result.created)} added, "
            f"{len(result.replaced)} replaced."
        )
