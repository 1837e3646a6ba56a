import factory
from factory.django import DjangoModelFactory

from jobs.models import Job, JobTemplate
from knowledge.models import KnowledgePage
from workspaces.models import Membership, Role, User, Workspace

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Business {n}")
    slug = factory.Sequence(lambda n: f"business-{n}")
    # Days and times in UTC, whatever the hour the suite runs at; tests of the workspace's
    # own zone (and of the country fallback) set it (tests/workspaces/test_time_zone.py).
    time_zone = "UTC"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.OWNER


class JobFactory(DjangoModelFactory):
    class Meta:
        model = Job

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Job {n}")
    description = "What this job is for."
    trigger = "Caller wants something specific."
    instructions = '1. Greet the caller.\n2. Ask: "How can I help?"\n3. End the call politely.'


class KnowledgePageFactory(DjangoModelFactory):
    class Meta:
        model = KnowledgePage

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Page {n}")
    body = "Opening hours: Monday to Friday, 9:00 to 17:00.\nEmergency fee: $149."


class JobTemplateFactory(DjangoModelFactory):
    class Meta:
        model = JobTemplate

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    description = "A template."
    trigger = "Caller wants a template."
    instructions = "1. Do the template thing.\n2. End the call."


# Call flows ------------------------------------------------------------------------------

from callflows.models import CallFlow, PhoneNumber, Step, StepKind  # noqa: E402


class PhoneNumberFactory(DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    workspace = factory.SubFactory(WorkspaceFactory)
    number = factory.Sequence(lambda n: f"+1555{n:07d}")
    display_name = factory.Sequence(lambda n: f"Line {n}")


class CallFlowFactory(DjangoModelFactory):
    class Meta:
        model = CallFlow

    phone_number = factory.SubFactory(PhoneNumberFactory)


class SonaStepFactory(DjangoModelFactory):
    """`SonaStepFactory(call_flow__phone_number__workspace=ws)` builds the whole chain."""

    class Meta:
        model = Step

    call_flow = factory.SubFactory(CallFlowFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = StepKind.SONA
    name = "Sona"
    settings = factory.LazyFunction(
        lambda: {"greeting": "Hi!", "use_history": True, "knowledge": []}
    )


def owner_of(workspace) -> "User":
    """An owner of the workspace (an existing one, else a new user): services need an actor."""
    membership = workspace.memberships.filter(role=Role.OWNER).select_related("user").first()
    return membership.user if membership else MembershipFactory(workspace=workspace).user


# Calls -----------------------------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from calls.models import Call, Outcome, Scenario, Source  # noqa: E402


class CallFactory(DjangoModelFactory):
    """A stored call; `CallFactory(phone_number=phone)` files it under that number's workspace."""

    class Meta:
        model = Call

    phone_number = factory.SubFactory(PhoneNumberFactory)
    workspace = factory.LazyAttribute(lambda o: o.phone_number.workspace)
    number = factory.LazyAttribute(lambda o: o.phone_number.number)
    source = Source.LIVE  # a real call; mock ones say source=Source.MOCK
    started_at = factory.LazyFunction(timezone.now)
    ended_at = factory.LazyAttribute(lambda o: o.started_at)
    outcome = Outcome.RESOLVED
    summary = "The caller asked for the opening hours; Sona told them."


class ScenarioFactory(DjangoModelFactory):
    """`ScenarioFactory(call_flow=phone.call_flow, expect={"job": job.name})`: a one-turn
    scenario of the flow's first Sona step; `turns=[...]` for more."""

    class Meta:
        model = Scenario

    call_flow = factory.SubFactory(CallFlowFactory)
    step_key = factory.LazyAttribute(
        lambda o: (
            o.call_flow.steps.filter(kind=StepKind.SONA).values_list("key", flat=True).first()
            or "nostep"
        )
    )
    name = factory.Sequence(lambda n: f"Scenario number {n}")
    turns = factory.Sequence(lambda n: [f"The caller says thing number {n}"])
    expect = factory.LazyFunction(lambda: {"job": None})


# Webhooks --------------------------------------------------------------------------------------

from webhooks.models import WebhookEndpoint  # noqa: E402
from webhooks.services import new_secret  # noqa: E402


class WebhookEndpointFactory(DjangoModelFactory):
    """An enabled endpoint subscribed to every event; `url=receiver.url` for a real server."""

    class Meta:
        model = WebhookEndpoint

    workspace = factory.SubFactory(WorkspaceFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/playbook")
    events = factory.LazyFunction(lambda: ["call.reported", "callflow.published", "alert.raised"])
    secret = factory.LazyFunction(new_secret)
