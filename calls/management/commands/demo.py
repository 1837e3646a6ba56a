import io

from django.core.management import call_command
from django.db import transaction

from callflows import services as callflow_services
from callflows.models import PhoneNumber, StepKind
from calls import services as call_services
from core.management.base import ServiceCommand
from jobs.models import Job, JobTemplate
from jobs.services import job_create
from knowledge.services import knowledge_page_create
from workspaces import audit
from workspaces.models import Membership, Role, User, Workspace

from . import _demo_calls

DEMO_EMAIL = "owner@demo.test"
DEMO_SLUG = "demo"
DEMO_NUMBER = "+15555550100"
DEMO_ZONE = "America/New_York"
# The practice's opening hours (the knowledge page says the same): the open branch of the
# business-hours step reaches Sona, the closed one the after-hours Sona step.
DEMO_HOURS = {
    "mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]], "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]], "fri": [["08:00", "18:00"]], "sat": [["09:00", "13:00"]],
    "sun": [],
}  # fmt: skip
AFTER_HOURS_TEMPLATE = "answer-after-hours-calls"
# A dental practice's own jobs (beside the templates): an emergency that transfers the call, and
# a change of appointment confirmed by SMS, so a mock call shows actions "not sent".
DEMO_JOBS = (
    {
        "name": "Dental emergency",
        "description": "Urgent problems go straight to the dentist on call.",
        "trigger": "Caller has severe tooth pain, swelling, bleeding, or a broken or "
        "knocked-out tooth",
        "instructions": '1. Ask: "Are you having trouble breathing or swallowing?" If yes, '
        "tell them to call 911 now.\n"
        "2. Ask for their name and what happened.\n"
        "3. [[Transfer call: external +1 555 555 0199 | say: I'm connecting you to our "
        "dentist on call now.]]",
    },
    {
        "name": "Reschedule or cancel",
        "description": "Move or cancel an existing appointment.",
        "trigger": "Caller wants to move, change or cancel an appointment they already have",
        "instructions": "1. Ask for their name and date of birth.\n"
        '2. Ask: "Which appointment would you like to change?"\n'
        "3. Offer the next two free times, or cancel it if they ask.\n"
        "4. [[Send SMS: Your appointment at Demo Dental has been updated. Call (555) 555-0100 "
        "if anything changes.]]",
    },
)
DEMO_KNOWLEDGE = {
    "title": "Opening hours and prices",
    "body": "We are open Monday to Friday, 8 am to 6 pm, and Saturday 9 am to 1 pm.\n\n"
    "A check-up with cleaning costs $120. X-rays are $45. New patients get a free "
    "consultation.\n\n"
    "We are at 120 Main Street, with free parking behind the building.",
}
# (name, turns, expect): three one-turn scenarios (test cases: examples of their job) and a
# whole conversation.
DEMO_SCENARIOS = (
    ("A swollen jaw is an emergency", ["my jaw is swollen and it really hurts"],
     {"job": "Dental emergency"}),
    ("Moving a cleaning", ["can I move my cleaning to next week"],
     {"job": "Reschedule or cancel"}),
    ("A wrong number gets no job", ["is this the pizza place?"], {"job": None}),
    ("Rescheduling goes to the right job",
     ["hi I need to move my appointment", "next Tuesday morning works"],
     {"job": "Reschedule or cancel", "never": ["transfer_call"]}),
)  # fmt: skip
DEMO_TEMPLATES = (
    "take-a-message",
    "schedule-an-appointment",
    "answer-after-hours-calls",
    "qualify-a-lead",
)


def login_url(host: str) -> str:
    """The login address a browser on this machine opens for `runserver HOST`: a port alone
    listens on 127.0.0.1, and the wildcard addresses (0.0.0.0, [::]) are reached at 127.0.0.1."""
    address, _, port = host.rpartition(":")
    if not address:
        address = "127.0.0.1"
    if address in ("0.0.0.0", "[::]", "::"):  # noqa: S104 (an address to print, not to bind)
        address = "127.0.0.1"
    return f"http://{address}:{port or 8000}/accounts/login/"


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
            slug=DEMO_SLUG, defaults={"name": "Demo Dental", "time_zone": DEMO_ZONE}
        )
        Membership.objects.update_or_create(
            user=owner, workspace=workspace, defaults={"role": Role.OWNER}
        )
        # The demo was set up weeks before its calls: its Activity says so, as its versions do.
        built = _demo_calls.built_at(workspace)
        with audit.dated(built):
            for template in JobTemplate.objects.filter(key__in=DEMO_TEMPLATES).order_by("name"):
                if not Job.objects.filter(workspace=workspace, name__iexact=template.name).exists():
                    job_create(
                        workspace=workspace,
                        user=owner,
                        data=template.text_fields(),
                        template=template,
                    )
            self.extend(workspace=workspace, owner=owner)
        phone = PhoneNumber.objects.live().get(number=DEMO_NUMBER)
        added = _demo_calls.add_calls(workspace=workspace, phone=phone)
        if added:
            self.stdout.write(f"Added {added} demo calls over the last {_demo_calls.DAYS} days.")
            # Today's check: the wrong-number calls of the last open day raise an alert.
            # (through the command: outcomes sits above calls, which may not import it)
            call_command("check_alerts", workspace=workspace.slug, stdout=io.StringIO())
            # The owner tried Sona today (a mock call: kept apart from the real ones).
            call_services.mock_call_end(
                call_flow=phone.call_flow, user=owner, turns=[DEMO_SCENARIOS[1][1][0]]
            )
        self.stdout.write(
            f"Demo workspace {workspace.name!r} is ready (phone number {DEMO_NUMBER}).\n"
            f"Log in at {login_url(host)} as {DEMO_EMAIL} with password {password!r}."
        )

    def extend(self, *, workspace, owner):
        """The demo number's call flow: greeting, business hours (open: Sona with four jobs, two
        with actions; closed: an after-hours Sona step with the after-hours job, then
        voicemail), a knowledge page and scenarios; version 1."""
        if PhoneNumber.objects.live().filter(number=DEMO_NUMBER).exists():
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
        after_hours = callflow_services.step_add(
            call_flow=flow,
            kind=StepKind.SONA,
            name="After hours",
            user=owner,
            settings={
                "greeting": "Thanks for calling Demo Dental. We're closed right now, but I can "
                "help or take a message.",
                "use_history": True,
                "knowledge": [],
            },
        )
        callflow_services.step_add(
            call_flow=flow, kind=StepKind.VOICEMAIL, name="Voicemail", user=owner
        )
        hours = callflow_services.step_add(
            call_flow=flow, kind=StepKind.BUSINESS_HOURS, name="Opening hours", user=owner
        )
        settings = {
            **hours.settings,
            "timezone": DEMO_ZONE,
            "hours": DEMO_HOURS,
            "open_step": sona.key,
            "closed_step": after_hours.key,
        }
        callflow_services.step_update(step=hours, name=hours.name, settings=settings, user=owner)
        # Order: Welcome, Opening hours, Sona, After hours, Voicemail.
        for step in (greeting, hours, hours, hours):
            callflow_services.step_move(step=step, offset=-1, user=owner)
        templates = Job.objects.filter(workspace=workspace, deleted_at__isnull=True)
        for job in templates.exclude(template__key=AFTER_HOURS_TEMPLATE).order_by("name")[:2]:
            callflow_services.step_attach_job(step=sona, job=job, user=owner)
        for job in templates.filter(template__key=AFTER_HOURS_TEMPLATE):
            callflow_services.step_attach_job(step=after_hours, job=job, user=owner)
        own = {}
        for data in DEMO_JOBS:
            own[data["name"]] = job_create(workspace=workspace, user=owner, data=data)
            callflow_services.step_attach_job(step=sona, job=own[data["name"]], user=owner)
        page = knowledge_page_create(workspace=workspace, user=owner, **DEMO_KNOWLEDGE)
        for step in (sona, after_hours):
            callflow_services.step_attach_knowledge(step=step, page=page, user=owner)
        # Registered for SMS outside Playbook (a demo number has nothing to register).
        callflow_services.phone_number_set_sms_registered(
            phone_number=phone, registered=True, user=owner
        )
        for name, turns, expect in DEMO_SCENARIOS:
            call_services.scenario_create(
                call_flow=flow, user=owner, step_key=sona.key, name=name, turns=turns,
                expect=expect,
            )  # fmt: skip
        callflow_services.callflow_publish(call_flow=flow, user=owner, note="Demo call flow")
        # The versions dated when the audit events are (before the calls), one job edited
        # part-way.
        _demo_calls.date_history(workspace=workspace, owner=owner)
