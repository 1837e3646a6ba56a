from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self):
        from callflows import checks

        from . import gates

        checks.register_test_gate(gates.failing_test_cases)
        checks.register_warnings(gates.confusable_jobs)
