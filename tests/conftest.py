import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection

from callflows import services as callflow_services
from callflows.models import StepJob, StepKind
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


def _member(workspace, role):
    return MembershipFactory(workspace=workspace, role=role).user


@pytest.fixture
def owner(workspace):
    return _member(workspace, Role.OWNER)


@pytest.fixture
def admin_user(workspace):
    return _member(workspace, Role.ADMIN)


@pytest.fixture
def member(workspace):
    return _member(workspace, Role.MEMBER)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def password():
    return PASSWORD


def postgres_only():
    """Mark a test that needs PostgreSQL's row locks and real concurrent transactions."""
    return pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks and real concurrent transactions (runs in CI)",
    )


def command_help(name: str, capsys) -> str:
    """A management command's --help text; asking for help must exit with 0."""
    with pytest.raises(SystemExit) as exit_info:
        call_command(name, "--help")
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def messages_of(response) -> list[str]:
    """The flash messages a response queued (admin actions, redirects)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def history_reasons(job) -> list[str]:
    """The job's history change reasons, oldest first."""
    return list(job.history.order_by("history_id").values_list("history_change_reason", flat=True))


# Call flows ---------------------------------------------------------------------------------


@pytest.fixture
def phone_number():
    """The number `phone` is created with; a test module overrides it to test another."""
    return "+15555550123"


@pytest.fixture
def phone(workspace, owner, phone_number):
    """A number made through the service, so its call flow starts with one Sona step."""
    return callflow_services.phone_number_create(
        workspace=workspace, number=phone_number, display_name="Main line", user=owner
    )


def sona_of(phone):
    return phone.call_flow.steps.get(kind=StepKind.SONA)


@pytest.fixture
def sona(phone):
    return sona_of(phone)


def attach(step, jobs, user) -> None:
    """Attach jobs to a step through the service, in order."""
    for job in jobs:
        callflow_services.step_attach_job(step=step, job=job, user=user)


def attached_names(step) -> list[str]:
    return list(
        StepJob.objects.filter(step=step).order_by("position").values_list("job__name", flat=True)
    )
