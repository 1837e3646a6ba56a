from knowledge.services import knowledge_export
from workspaces.management.base import ExportCommand


class Command(ExportCommand):
    help = "Export a workspace's knowledge pages as JSON (to standard output or --output FILE)."
    what = "page(s)"

    def export(self, workspace):
        return knowledge_export(workspace=workspace)
