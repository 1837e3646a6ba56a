from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"

    def ready(self):
        from . import backends  # noqa: F401  (registers the backend settings' system check)
