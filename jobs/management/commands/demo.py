from django.core.management.base import BaseCommand
from django.db import transaction

from jobs.models import Job, JobTemplate
from jobs.services import job_create
from workspaces.models import Membership, Role, User, Workspace

DEMO_EMAIL = "owner@demo.test"
DEMO_SLUG = "demo"
DEMO_TEMPLATES = (
    "take-a-message",
    "schedule-an-appointment",
    "answer-after-hours-calls",
    "qualify-a-lead",
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo workspace and its owner; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Demo owner's password (default: demo)."
        )

    @transaction.atomic
    def handle(self, *args, password, **options):
        owner = User.objects.filter(email=DEMO_EMAIL).first() or User.objects.create_user(
            DEMO_EMAIL
        )
        owner.set_password(password)
        owner.full_name = owner.full_name or "Demo Owner"
        owner.save()
        workspace, _ = Workspace.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"name": "Demo Dental"}
        )
        Membership.objects.update_or_create(
            user=owner, workspace=workspace, defaults={"role": Role.OWNER}
        )
        for template in JobTemplate.objects.filter(key__in=DEMO_TEMPLATES).order_by("name"):
            if not Job.objects.filter(workspace=workspace, name__iexact=template.name).exists():
                job_create(
                    workspace=workspace, user=owner, data=template.text_fields(), template=template
                )
        self.extend(workspace=workspace, owner=owner)
        self.stdout.write(
            f"Demo workspace {workspace.name!r} is ready.\n"
            f"Log in at http://127.0.0.1:8000/accounts/login/ as {DEMO_EMAIL} with password {password!r}."
        )

    def extend(self, *, workspace, owner):
        """Hook for other apps' demo data (call flows add the demo phone number)."""
