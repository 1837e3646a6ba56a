from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from . import backends  # noqa: F401  (registers the backend settings' system check)
