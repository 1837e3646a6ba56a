"""The base of every project command: one way to check arguments and to report a refusal.

A command parses its arguments, looks up objects (workspaces.management.base has the tenancy
lookups) and calls a service. ServiceCommand turns what the service refuses (ValidationError,
RoleRequired or any PermissionDenied) and failed lookups into CommandError, so `manage.py` prints
one clear line and exits with status 1.
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.errors import error_messages
from core.text import check_text


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
