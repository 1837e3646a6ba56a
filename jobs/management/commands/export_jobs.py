from jobs.services import job_export
from workspaces.management.base import ExportCommand


class Command(ExportCommand):
    help = "Export a workspace's jobs as JSON (to standard output or --output FILE)."
    what = "job(s)"

    def export(self, workspace):
        return job_export(workspace=workspace)
