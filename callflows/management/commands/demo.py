from django.db import transaction

from callflows import services as callflow_services
from callflows.models import PhoneNumber, StepKind
from jobs.models import Job, JobTemplate
from jobs.services import job_create
from workspaces.management.base import ServiceCommand
from workspaces.models import Membership, Role, User, Workspace

DEMO_EMAIL = "owner@demo.test"
DEMO_SLUG = "demo"
DEMO_NUMBER = "+15555550100"
DEMO_TEMPLATES = (
    "take-a-message",
    "schedule-an-appointment",
    "answer-after-hours-calls",
    "qualify-a-lead",
)


class Command(ServiceCommand):
    help = "Create (or refresh) the demo workspace and its owner; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Demo owner's password (default: demo)."
        )
        parser.add_argument(
            "--host",
            default="127.0.0.1:8000",
            help="HOST:PORT the server will listen on, for the login address printed.",
        )

    @transaction.atomic
    def handle(self, *args, password, host, **options):
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
            f"Demo workspace {workspace.name!r} is ready (phone number {DEMO_NUMBER}).\n"
            f"Log in at http://{host}/accounts/login/ as {DEMO_EMAIL} with password {password!r}."
        )

    def extend(self, *, workspace, owner):
        """The demo number's call flow: greeting, business hours, Sona with three jobs; version 1."""
        if PhoneNumber.objects.filter(number=DEMO_NUMBER).exists():
            return
        phone = callflow_services.phone_number_create(
            workspace=workspace, number=DEMO_NUMBER, display_name="Main line", user=owner
        )
        flow = phone.call_flow
        sona = flow.steps.get(kind=StepKind.SONA)
        greeting = callflow_services.step_add(
            call_flow=flow,
            kind=StepKind.GREETING,
            name="Welcome",
            user=owner,
            settings={"message": "Thanks for calling Demo Dental. This call may be recorded."},
        )
        voicemail = callflow_services.step_add(
            call_flow=flow, kind=StepKind.VOICEMAIL, name="Voicemail", user=owner
        )
        hours = callflow_services.step_add(
            call_flow=flow, kind=StepKind.BUSINESS_HOURS, name="Opening hours", user=owner
        )
        settings = {**hours.settings, "open_step": sona.key, "closed_step": voicemail.key}
        callflow_services.step_update(step=hours, name=hours.name, settings=settings, user=owner)
        # Order: Welcome, Opening hours, Sona, Voicemail.
        for step in (greeting, hours, hours):
            callflow_services.step_move(step=step, offset=-1, user=owner)
        for job in Job.objects.filter(workspace=workspace, deleted_at__isnull=True).order_by(
            "name"
        )[:3]:
            callflow_services.step_attach_job(step=sona, job=job, user=owner)
        callflow_services.callflow_publish(call_flow=flow, user=owner, note="Demo call flow")
