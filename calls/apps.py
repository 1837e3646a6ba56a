from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self):
        from callflows import checks

        from . import gates, receivers, rollups  # noqa: F401  (their signal receivers)
        from .routing import engine  # noqa: F401  (ROUTER_BACKEND, checked at startup)

        checks.register_test_gate(gates.failing_scenarios)
        checks.register_warnings(gates.confusable_jobs)
