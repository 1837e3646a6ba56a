"""The base of every project command: one way to check arguments and to report a refusal.

A command parses its arguments, looks up objects with the helpers below and calls a service.
ServiceCommand turns what the service refuses (ValidationError, RoleRequired or any
PermissionDenied) and failed lookups into CommandError, so `manage.py` prints one clear line
and exits with status 1.
"""

import json

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from workspaces.errors import error_messages
from workspaces.models import User, Workspace
from workspaces.text import check_text


class ServiceCommand(BaseCommand):
    def write_output(self, text: str, output: str, done: str) -> None:
        """`text` to standard output, or to the file `output` (then `done` on stderr)."""
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stderr.write(done)

    def execute(self, *args, **options):
        _check_arguments(args, options)
        try:
            return super().execute(*args, **options)
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            raise CommandError(" ".join(error_messages(exc))) from exc


def _check_arguments(args, options) -> None:
    """Refuse NUL and lone surrogates (an undecodable argv byte) before any query sees them."""
    named = [("argument", value) for value in args]
    named += [(f"--{key.replace('_', '-')}", value) for key, value in options.items()]
    for name, value in named:
        for item in value if isinstance(value, list | tuple) else [value]:
            try:
                check_text(item, f"The {name} value")
            except ValidationError as exc:
                raise CommandError(" ".join(error_messages(exc))) from exc


# Lookups shared by the commands: one clear error for each miss ------------------------------


def get_workspace(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise CommandError(f"No workspace with the slug {slug!r}.") from None


def get_user(email: str) -> User:
    """The active user a command acts as; the service then checks their role."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CommandError(f"No active user with the email {email!r}.")
    return user


class ExportCommand(ServiceCommand):
    """`--workspace SLUG [--output FILE]`: a workspace's records as JSON. Subclasses set `what`
    (e.g. "job(s)") and `export(workspace) -> list[dict]`."""

    what = "record(s)"

    def export(self, workspace) -> list[dict]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, workspace, output, **options):
        records = self.export(get_workspace(workspace))
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
        self.write_output(text, output, f"Exported {len(records)} {self.what} to {output}.")
