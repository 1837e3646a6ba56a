from django.apps import AppConfig


class CallflowsConfig(AppConfig):
    name = "callflows"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the job signal receivers)
