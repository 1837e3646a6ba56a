"""The one phone-number rule (core/phones.py) and the workspace country it reads numbers in."""

from io import StringIO

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.phones import format_phone, normalize_phone
from tests.factories import UserFactory, WorkspaceFactory
from workspaces.models import Membership, Workspace
from workspaces.services import workspace_create

NOT_A_NUMBER = "“{raw}” is not a phone number. Enter it in international format (+15551234567) or as a {region} number."


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+15551234567", "US", "+15551234567"),
        ("+1 (555) 555-0199", "US", "+15555550199"),
        ("(555) 555-0199", "US", "+15555550199"),
        ("555-555-0199", "US", "+15555550199"),
        ("555.555.0199", "US", "+15555550199"),
        ("  555 555 0199  ", "US", "+15555550199"),
        ("1 (555) 555-0199", "US", "+15555550199"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("+44 20 7946 0958", "GB", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US international prefix
        ("0044 20 7946 0958", "GB", "+442079460958"),  # the GB one
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),
        ("+1 212 555 0199", "GB", "+12125550199"),
        ("030 1234567", "DE", "+49301234567"),
        (
            "+１５５５５５５０１００",
            "US",
            "+15555550100",
        ),  # full-width digits from a phone keyboard
    ],
)
def test_accepted_numbers_are_stored_in_e164(raw, region, expected):
    assert normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("+1abc1234567", "US", NOT_A_NUMBER),
        ("1-800-FLOWERS", "US", NOT_A_NUMBER),  # no vanity-number conversion
        ("+1555abc0100", "US", NOT_A_NUMBER),
        ("12", "US", NOT_A_NUMBER),
        ("12345", "US", NOT_A_NUMBER),
        ("555-0100", "US", NOT_A_NUMBER),  # seven digits: no area code
        ("+0123456789", "US", NOT_A_NUMBER),
        ("+999 1234567", "US", NOT_A_NUMBER),  # no such country code
        ("+1234567890123456", "US", NOT_A_NUMBER),
        ("+1 555 555 01999", "US", NOT_A_NUMBER),  # one digit too many
        ("+44 7946 0958", "US", NOT_A_NUMBER),  # dialable only inside its area
        ("020 7946 0958", "US", NOT_A_NUMBER),  # a GB number, read as US
        ("0044 20 7946 0958", "US", NOT_A_NUMBER),  # 00 is not the US international prefix
        ("call me maybe", "US", NOT_A_NUMBER),
        ("+1 555 555 0100 ext 12", "US", "“{raw}” has an extension"),
        ("+1 555 555 0100 x5", "US", "“{raw}” has an extension"),
        ("+1 555 555 0100 ,1", "US", "“{raw}” has an extension"),
        ("", "US", "Enter a phone number, e.g. +15551234567."),
        ("   ", "US", "Enter a phone number, e.g. +15551234567."),
        ("\x00", "US", "The phone number contains a character that cannot be stored"),
        ("+1555555\x000100", "US", "The phone number contains a character that cannot be stored"),
        ("+1555555\ud8000100", "US", "The phone number contains a character that cannot be stored"),
    ],
)
def test_refused_numbers_say_why_quoting_the_input(raw, region, message):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw, region=region)
    assert exc.value.messages[0].startswith(message.format(raw=raw.strip(), region=region))


@pytest.mark.parametrize("raw", ["+1abc1234567", "", "\x00", "+1 555 555 0100 ext 1", "12"])
def test_every_refusal_is_keyed_by_field_when_given(raw):
    with pytest.raises(ValidationError) as keyed:
        normalize_phone(raw, field="number")
    with pytest.raises(ValidationError) as plain:
        normalize_phone(raw)
    assert keyed.value.message_dict == {"number": plain.value.messages}
    assert len(plain.value.messages) == 1


def test_fictional_us_numbers_are_accepted():
    """The demo's +15555550100 and the factories' +1555xxxxxxx must pass (see the docstring)."""
    for n in range(100, 200):
        assert normalize_phone(f"+1 555 555 0{n}") == f"+15555550{n}"
    assert normalize_phone("+15550000000") == "+15550000000"
    # Why normalize_phone checks the length, not validity: phonenumbers calls these invalid.
    assert not phonenumbers.is_valid_number(phonenumbers.parse("+15555550100"))


# The workspace's country -------------------------------------------------------------------


@pytest.mark.django_db
def test_workspace_country_defaults_to_us_and_is_normalised():
    owner = UserFactory()
    assert workspace_create(name="Acme", owner=owner).country == "US"
    assert workspace_create(name="Acme UK", owner=owner, country=" gb ").country == "GB"


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["XX", "", "USA", "\x00"])
def test_unknown_country_is_refused_and_nothing_is_created(country):
    with pytest.raises(ValidationError) as exc:
        workspace_create(name="Acme", owner=UserFactory(), country=country)
    assert "is not a country code Playbook knows" in exc.value.message_dict["country"][0]
    assert not Workspace.objects.exists() and not Membership.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["us", "", "1A"])  # "USA": varchar(2) refuses it
def test_database_refuses_a_country_of_the_wrong_shape(country):
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.create(name="Acme", slug="acme", country=country)


@pytest.mark.django_db
def test_create_workspace_command_takes_a_country():
    user = UserFactory()
    call_command(
        "create_workspace", "--name", "Acme UK", "--owner-email", user.email, "--country", "GB",
        stdout=StringIO(),
    )  # fmt: skip
    assert Workspace.objects.get(name="Acme UK").country == "GB"
    with pytest.raises(CommandError, match="“ZZ” is not a country code Playbook knows"):
        call_command(
            "create_workspace", "--name", "Bad", "--owner-email", user.email, "--country", "ZZ",
            stdout=StringIO(),
        )  # fmt: skip
    assert not Workspace.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_admin_edits_the_workspace_country(staff_client):
    workspace = WorkspaceFactory()
    url = reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    data = {
        "name": workspace.name,
        "slug": workspace.slug,
        "call_retention_days": "365",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = staff_client.post(url, {**data, "country": "XX"})
    assert response.status_code == 200
    assert "country" in response.context["adminform"].form.errors
    workspace.refresh_from_db()
    assert workspace.country == "US"
    response = staff_client.post(url, {**data, "country": "GB"})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.country == "GB"
    assert "GB (+44)" in staff_client.get(url).text


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+15555550100", "+1 555-555-0100"),
        ("+442079460958", "+44 20 7946 0958"),
        ("not a number", "not a number"),  # shown as stored, never an error on a page
    ],
)
def test_format_phone(stored, shown):
    assert format_phone(stored) == shown
