import sys

from django.core.management.base import CommandError

from core.management.base import ServiceCommand
from jobs import optimizer


class Command(ServiceCommand):
    help = "Print job instructions rewritten by the optimizer (from FILE or standard input)."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", help="Text file with instructions (default: standard input)."
        )
        parser.add_argument(
            "--trigger", default="", help="The caller intent, stated first when given."
        )
        parser.add_argument(
            "--changes", action="store_true", help="Also list what changed, on standard error."
        )

    def handle(self, *args, file, trigger, changes, **options):
        try:
            if file:
                with open(file, encoding="utf-8") as fh:
                    text = fh.read()
            else:
                text = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file or 'standard input'}: {exc}") from exc
        try:
            result = optimizer.optimize(text, trigger=trigger)
        except (ValueError, optimizer.OptimizeRefused) as exc:
            raise CommandError(str(exc)) from exc
        if result.notice:
            self.stderr.write(result.notice)
        if changes:
            for change in result.changes:
                self.stderr.write(f"- {change}")
        self.stdout.write(result.text)
