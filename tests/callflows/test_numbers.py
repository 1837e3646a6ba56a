"""One phone-number rule everywhere a number is typed: phone numbers (pages, admin, commands)
and Forward targets, read in the workspace's country."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from callflows import services
from callflows.models import PhoneNumber, Step, StepKind
from tests.factories import CallFlowFactory, MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

INPUTS = [
    "+1 (555) 555-0199",  # accepted as a number, refused as a forward target before (the bug)
    "(555) 555-0199",
    "555.555.0199",
    "+44 20 7946 0958",
    "020 7946 0958",
    "+1abc1234567",
    "1-800-FLOWERS",
    "12",
    "+1 555 555 0100 ext 12",
    "",
    "\x00",
]


def answer(call):
    try:
        return call()
    except ValidationError as exc:
        return exc.message_dict


def as_phone_number(workspace, owner, raw):
    def call():
        return services.phone_number_create(
            workspace=workspace, number=raw, display_name="Line", user=owner
        ).number

    return answer(call)


def as_forward_target(workspace, owner, raw):
    flow = CallFlowFactory(phone_number__workspace=workspace)

    def call():
        return services.step_add(
            call_flow=flow,
            kind=StepKind.FORWARD,
            name="Office",
            settings={"number": raw},
            user=owner,
        ).settings["number"]

    return answer(call)


@pytest.mark.parametrize("country", ["US", "GB"])
@pytest.mark.parametrize("raw", INPUTS)
def test_same_answer_as_phone_number_and_as_forward_target(country, raw):
    workspace = WorkspaceFactory(country=country)
    owner = MembershipFactory(workspace=workspace).user
    forward = as_forward_target(workspace, owner, raw)
    steps = Step.objects.count()
    number = as_phone_number(workspace, owner, raw)
    if isinstance(forward, dict):  # "The number is required." comes first for an empty target
        assert isinstance(number, dict) and (number == forward or raw == "")
        assert Step.objects.count() == steps
    else:
        assert number == forward


def test_workspace_country_reads_national_numbers():
    gb = WorkspaceFactory(country="GB")
    gb_owner = MembershipFactory(workspace=gb).user
    assert as_forward_target(gb, gb_owner, "020 7946 0958") == "+442079460958"
    assert as_phone_number(gb, gb_owner, "020 7946 0958") == "+442079460958"
    us = WorkspaceFactory()  # US by default
    us_owner = MembershipFactory(workspace=us).user
    message = (
        "“020 7946 0958” is not a phone number. Enter it in international format "
        "(+15551234567) or as a US number."
    )
    assert as_forward_target(us, us_owner, "020 7946 0958") == {"number": [message]}
    assert as_phone_number(us, us_owner, "020 7946 0958") == {"number": [message]}
    assert not PhoneNumber.objects.filter(workspace=us, number__startswith="+44").exists()


def test_page_adds_a_national_number_of_the_workspace_country(client):
    workspace = WorkspaceFactory(country="GB")
    client.force_login(MembershipFactory(workspace=workspace).user)
    client.post(reverse("callflows:list"), {"number": "020 7946 0958", "display_name": "London"})
    assert PhoneNumber.objects.get(workspace=workspace).number == "+442079460958"


# Commands find a number as its own workspace reads it --------------------------------------


def test_commands_find_numbers_in_their_workspace_country(capsys):
    us = WorkspaceFactory()
    us_owner = MembershipFactory(workspace=us).user
    gb = WorkspaceFactory(country="GB")
    gb_owner = MembershipFactory(workspace=gb).user
    as_phone_number(us, us_owner, "+15555550123")
    as_phone_number(gb, gb_owner, "+442079460958")
    call_command("publish_callflow", number="(555) 555-0123", user=us_owner.email)
    assert "Published version 1 of +15555550123" in capsys.readouterr().out
    call_command("publish_callflow", number="020 7946 0958", user=gb_owner.email)
    assert "Published version 1 of +442079460958" in capsys.readouterr().out
    with pytest.raises(CommandError, match="“\\+1abc1234567” is not a phone number"):
        call_command("publish_callflow", number="+1abc1234567", user=us_owner.email)
    with pytest.raises(CommandError, match="No phone number 020 7946 0959"):
        call_command("publish_callflow", number="020 7946 0959", user=gb_owner.email)


def test_command_refuses_a_national_number_two_countries_read_differently():
    de = WorkspaceFactory(country="DE")
    de_owner = MembershipFactory(workspace=de).user
    nl = WorkspaceFactory(country="NL")
    nl_owner = MembershipFactory(workspace=nl).user
    assert as_phone_number(de, de_owner, "030 1234567") == "+49301234567"  # Berlin
    assert as_phone_number(nl, nl_owner, "030 1234567") == "+31301234567"  # Utrecht
    with pytest.raises(CommandError, match="names several numbers: \\+49301234567 .*"):
        call_command("publish_callflow", number="030 1234567", user=de_owner.email)
    # With its country code it names one.
    call_command("publish_callflow", number="+31 30 123 4567", user=nl_owner.email)
    assert PhoneNumber.objects.get(number="+31301234567").call_flow.live_version is not None
    assert PhoneNumber.objects.get(number="+49301234567").call_flow.live_version is None
