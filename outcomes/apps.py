from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and alerts"

    def ready(self):
        # The one runtime API (calls/api.py) is built below this app: its operations here are
        # added to it, so they share its auth, error shape and OpenAPI document.
        from calls.api import api

        from .api import router

        api.add_router("", router)
