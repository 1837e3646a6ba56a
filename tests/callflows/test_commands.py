import pytest
from django.core.management import CommandError, call_command

from callflows import services
from callflows.models import CallFlowVersion, StepKind
from tests.conftest import command_help
from tests.factories import JobFactory, UserFactory
from workspaces.models import ApiToken
from workspaces.services import api_token_workspace

pytestmark = pytest.mark.django_db


def test_publish_and_rollback(phone, owner, workspace, capsys):
    call_command("publish_callflow", number="+1 555 555 0123", user=owner.email, note="First")
    assert "Published version 1 of +15555550123" in capsys.readouterr().out
    version = CallFlowVersion.objects.get()
    assert (version.note, version.published_by) == ("First", owner)
    sona = phone.call_flow.steps.get(kind=StepKind.SONA)
    services.step_attach_job(step=sona, job=JobFactory(workspace=workspace), user=owner)
    call_command("publish_callflow", number=phone.number, user=owner.email)
    call_command("rollback_callflow", number=phone.number, version=1, user=owner.email)
    assert "Published version 1 again as version 3" in capsys.readouterr().out
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version.number == 3


@pytest.mark.parametrize(
    ("command", "kwargs", "message"),
    [
        ("publish_callflow", {"number": "12", "user": "{owner}"}, "“12” is not a phone number"),
        ("publish_callflow", {"number": "+15555550999", "user": "{owner}"}, "No phone number"),
        (
            "publish_callflow",
            {"number": "+15555550123", "user": "ghost@example.test"},
            "No active user",
        ),
        (
            "publish_callflow",
            {"number": "+15555550123", "user": "{outsider}"},
            "Only owners and admins of .* can publish call flows.",
        ),
        (
            "rollback_callflow",
            {"number": "+15555550123", "version": 7, "user": "{owner}"},
            "has no version 7",
        ),
    ],
)
def test_publish_errors(phone, owner, command, kwargs, message):
    outsider = UserFactory()
    kwargs = {
        k: v.format(owner=owner.email, outsider=outsider.email) if isinstance(v, str) else v
        for k, v in kwargs.items()
    }
    with pytest.raises(CommandError, match=message):
        call_command(command, **kwargs)
    assert not CallFlowVersion.objects.exists()


def test_nothing_to_publish_is_an_error(phone, owner):
    call_command("publish_callflow", number=phone.number, user=owner.email)
    with pytest.raises(CommandError, match="Nothing to publish"):
        call_command("publish_callflow", number=phone.number, user=owner.email)
    assert CallFlowVersion.objects.count() == 1


def test_create_api_token(workspace, owner, admin_user, capsys):
    call_command("create_api_token", workspace=workspace.slug, name="Runtime", user=owner.email)
    captured = capsys.readouterr()
    raw = captured.out.strip()
    assert api_token_workspace(raw) == workspace
    assert "not shown again" in captured.err
    token = ApiToken.objects.get()
    assert token.key_hash != raw and token.created_by == owner
    with pytest.raises(CommandError, match="No workspace"):
        call_command("create_api_token", workspace="nope", name="x", user=owner.email)
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_token", workspace=workspace.slug, name=" ", user=owner.email)
    with pytest.raises(CommandError, match=f"Only owners of {workspace.name} can manage API"):
        call_command("create_api_token", workspace=workspace.slug, name="x", user=admin_user.email)
    with pytest.raises(CommandError, match="--user"):
        call_command("create_api_token", workspace=workspace.slug, name="x")
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("name", ["publish_callflow", "rollback_callflow", "create_api_token"])
def test_help(name, capsys):
    assert "usage" in command_help(name, capsys)
