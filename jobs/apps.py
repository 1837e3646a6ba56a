from django.apps import AppConfig
from django.db.models.signals import post_migrate


def sync_builtin_templates(sender, using="default", **kwargs):
    """Keep the built-in templates in the database equal to jobs/builtin_templates.py.

    Runs after every `migrate`, so the templates are there on a fresh install and text
    improvements reach existing installs. Jobs made from a template are copies: unaffected.
    """
    from .builtin_templates import BUILTIN_TEMPLATES
    from .models import JobTemplate

    for template in BUILTIN_TEMPLATES:
        key = template["key"]
        fields = {k: v for k, v in template.items() if k != "key"}
        JobTemplate.objects.using(using).update_or_create(key=key, workspace=None, defaults=fields)


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self):
        post_migrate.connect(sync_builtin_templates, sender=self)
        from . import optimizer, receivers  # noqa: F401  (receivers: the member removal check;
        # optimizer: OPTIMIZER_BACKEND, checked at startup)
