import pytest
from django.db import connection

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
