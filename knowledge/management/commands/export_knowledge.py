import json

from django.core.management.base import CommandError

from knowledge.services import knowledge_export
from workspaces.management.base import ServiceCommand, get_workspace


class Command(ServiceCommand):
    help = "Export a workspace's knowledge pages as JSON (to standard output or --output FILE)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, workspace, output, **options):
        records = knowledge_export(workspace=get_workspace(workspace))
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stderr.write(f"Exported {len(records)} page(s) to {output}.")
