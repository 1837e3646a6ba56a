from django.apps import AppConfig


class CallflowsConfig(AppConfig):
    name = "callflows"
