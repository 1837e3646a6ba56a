"""Business hours guard rails: closed dates (holidays) and the searchable time-zone picker."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from callflows import live as live_module
from callflows import services
from callflows.models import StepKind
from callflows.steps import CLOSED_DATES_MAX, Context, display_settings, validate_settings
from core.timezones import country_zones, ordered_zones
from workspaces.models import Role
from workspaces.permissions import RoleRequired
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_step(phone, owner):
    return services.step_add(
        call_flow=phone.call_flow, kind=StepKind.BUSINESS_HOURS, name="Hours", user=owner
    )


def form_data(**changes):
    data = {"name": "Hours", "timezone": "Europe/London", "open_step": "", "closed_step": ""}
    for day in DAYS:
        data[f"{day}_opens"], data[f"{day}_closes"] = (
            ("09:00", "17:00") if day not in ("sat", "sun") else ("", "")
        )
    return data | changes


def edit_url(phone, step):
    return reverse("callflows:step_edit", args=[phone.pk, step.pk])


def settings_with(closed_dates):
    base = display_settings(StepKind.BUSINESS_HOURS, {})
    return {**base, "closed_dates": closed_dates}


# The step kind's settings -------------------------------------------------------------------


def test_closed_dates_are_sorted_named_and_accept_bare_dates():
    clean = validate_settings(
        StepKind.BUSINESS_HOURS,
        settings_with(["2026-12-26", {"date": "2026-12-25", "name": "  Christmas   Day "}]),
        Context(),
    )
    assert clean["closed_dates"] == [
        {"date": "2026-12-25", "name": "Christmas Day"},
        {"date": "2026-12-26", "name": ""},
    ]


@pytest.mark.parametrize(
    ("closed_dates", "message"),
    [
        (["25/12/2026"], "“25/12/2026” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-25."),
        (["2026-02-30"], "“2026-02-30” is not a date"),
        ([{"name": "no date"}], "Each closed date needs a date (YYYY-MM-DD)."),
        (["2026-12-25", {"date": "2026-12-25"}], "2026-12-25 is listed twice."),
        ([{"date": "2026-12-25", "name": "x" * 101}], "the name can be at most 100 characters"),
        ("2026-12-25", "Closed dates are a list of dates."),
        (
            [f"2026-01-{d:02d}" for d in range(1, 32)] * 4,
            f"List at most {CLOSED_DATES_MAX} closed dates",
        ),
    ],
)
def test_closed_dates_refusals(closed_dates, message):
    with pytest.raises(ValidationError) as exc:
        validate_settings(StepKind.BUSINESS_HOURS, settings_with(closed_dates), Context())
    assert message in " ".join(exc.value.message_dict["closed_dates"])


def test_stored_closed_dates_of_odd_shapes_display_without_error():
    shown = display_settings(
        StepKind.BUSINESS_HOURS, {"closed_dates": ["2026-01-01", 7, {"date": 3}, {"x": 1}]}
    )
    assert shown["closed_dates"] == [{"date": "2026-01-01", "name": ""}]
    assert display_settings(StepKind.BUSINESS_HOURS, {"closed_dates": "x"})["closed_dates"] == []


def test_a_member_cannot_set_closed_dates(phone, owner, workspace):
    from tests.factories import MembershipFactory

    member = MembershipFactory(workspace=workspace, role=Role.MEMBER).user
    step = hours_step(phone, owner)
    before = dict(step.settings)
    with pytest.raises(RoleRequired):
        services.step_update(
            step=step,
            name="Hours",
            settings={**step.settings, "closed_dates": ["2026-12-25"]},
            user=member,
        )
    step.refresh_from_db()
    assert step.settings == before


# The editor ---------------------------------------------------------------------------------


def test_editor_saves_closed_dates_one_per_line(owner_client, owner, phone):
    step = hours_step(phone, owner)
    page = owner_client.get(edit_url(phone, step)).text
    assert '<label for="id_closed_dates">Closed dates</label>' in page
    response = owner_client.post(
        edit_url(phone, step),
        form_data(
            closed_dates="2026-12-25 Christmas Day\r\n\r\n2026-01-01 – New Year\r\n2026-07-03"
        ),
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.settings["closed_dates"] == [
        {"date": "2026-01-01", "name": "New Year"},
        {"date": "2026-07-03", "name": ""},
        {"date": "2026-12-25", "name": "Christmas Day"},
    ]
    page = owner_client.get(edit_url(phone, step)).text
    assert "2026-01-01 New Year\n2026-07-03\n2026-12-25 Christmas Day</textarea>" in page


def test_editor_shows_a_bad_line_next_to_the_field_and_saves_nothing(owner_client, owner, phone):
    step = hours_step(phone, owner)
    before = dict(step.settings)
    response = owner_client.post(
        edit_url(phone, step),
        form_data(closed_dates="2026-12-25 Christmas\n12/26/2026 Boxing Day", mon_opens="08:00"),
    )
    assert response.status_code == 200
    errors = [str(e) for e in response.context["form"].errors["closed_dates"]]
    assert errors == ["“12/26/2026” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-25."]
    assert 'id="id_closed_dates_errors"' in response.text
    assert "12/26/2026 Boxing Day</textarea>" in response.text  # what was typed is kept
    step.refresh_from_db()
    assert step.settings == before


def test_editor_keeps_closed_dates_when_only_hours_change(owner_client, owner, phone):
    step = hours_step(phone, owner)
    services.step_update(
        step=step,
        name="Hours",
        settings={**step.settings, "closed_dates": [{"date": "2026-12-25", "name": "Xmas"}]},
        user=owner,
    )
    initial = owner_client.get(edit_url(phone, step)).context["form"].initial["closed_dates"]
    owner_client.post(edit_url(phone, step), form_data(closed_dates=initial, mon_opens="08:00"))
    step.refresh_from_db()
    assert step.settings["hours"]["mon"] == [["08:00", "17:00"]]
    assert step.settings["closed_dates"] == [{"date": "2026-12-25", "name": "Xmas"}]


# The live body ------------------------------------------------------------------------------


def test_live_body_serves_the_closed_dates(client, workspace, owner, phone):
    cache.clear()
    live_module._bodies.clear()
    step = hours_step(phone, owner)
    services.step_update(
        step=step,
        name="Hours",
        settings={**step.settings, "closed_dates": [{"date": "2026-12-25", "name": "Christmas"}]},
        user=owner,
    )
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    token = api_token_create(workspace=workspace, name="runtime", user=owner).raw
    body = client.get(
        reverse("api:live", args=[phone.number]), HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    hours = next(s for s in body["steps"] if s["kind"] == "business_hours")
    assert hours["settings"]["closed_dates"] == [{"date": "2026-12-25", "name": "Christmas"}]


# The time-zone picker -----------------------------------------------------------------------


def test_zones_of_the_workspace_country_come_first():
    assert country_zones("GB") == ["Europe/London"]
    assert country_zones("us")[0] == "America/New_York"
    zones = ordered_zones("GB", "Asia/Tokyo")
    assert zones[:2] == ["Asia/Tokyo", "Europe/London"]
    assert len(zones) == len(set(zones)) > 300
    assert ordered_zones("ZZ")[0] == "Africa/Abidjan"  # unknown country: A→Z
    # A step's zone, then the workspace's, then the country's; each once.
    zones = ordered_zones("GB", "Asia/Tokyo", "Europe/London", "")
    assert zones[:2] == ["Asia/Tokyo", "Europe/London"] and zones.count("Europe/London") == 1
    assert ordered_zones("GB", "", "America/Sao_Paulo")[:2] == [
        "America/Sao_Paulo",
        "Europe/London",
    ]


def test_time_zone_is_a_searchable_input_with_the_workspace_zone_first(
    owner_client, owner, phone, workspace
):
    workspace.country, workspace.time_zone = "GB", ""  # the country's zones, no zone of its own
    workspace.save(update_fields=["country", "time_zone"])
    step = hours_step(phone, owner)
    services.step_update(
        step=step, name="Hours", settings={**step.settings, "timezone": "Asia/Tokyo"}, user=owner
    )
    page = owner_client.get(edit_url(phone, step)).text
    assert 'list="timezone-options"' in page and '<select name="timezone"' not in page
    options = page.split('<datalist id="timezone-options">', 1)[1].split("</datalist>", 1)[0]
    assert options.startswith(
        '<option value="Asia/Tokyo"></option><option value="Europe/London"></option>'
        '<option value="Africa/Abidjan"></option>'
    )
    assert "Your workspace&#x27;s zone and your country&#x27;s zones come first." in page

    # The workspace's own zone comes right after the step's.
    workspace.time_zone = "America/Sao_Paulo"
    workspace.save(update_fields=["time_zone"])
    page = owner_client.get(edit_url(phone, step)).text
    options = page.split('<datalist id="timezone-options">', 1)[1].split("</datalist>", 1)[0]
    assert options.startswith(
        '<option value="Asia/Tokyo"></option><option value="America/Sao_Paulo"></option>'
        '<option value="Europe/London"></option>'
    )


def test_a_typed_unknown_zone_is_refused_next_to_the_field(owner_client, owner, phone):
    step = hours_step(phone, owner)
    before = dict(step.settings)
    response = owner_client.post(edit_url(phone, step), form_data(timezone="London"))
    assert response.status_code == 200
    assert [str(e) for e in response.context["form"].errors["timezone"]] == [
        "“London” is not a known time zone, e.g. America/New_York."
    ]
    step.refresh_from_db()
    assert step.settings == before
    assert owner_client.post(edit_url(phone, step), form_data()).status_code == 302
    step.refresh_from_db()
    assert step.settings["timezone"] == "Europe/London"


def test_a_new_business_hours_step_starts_in_the_workspace_country_zone(phone, owner, workspace):
    workspace.country, workspace.time_zone = "GB", ""  # the country's zones, no zone of its own
    workspace.save(update_fields=["country", "time_zone"])
    assert hours_step(phone, owner).settings["timezone"] == "Europe/London"
    workspace.country = "US"
    workspace.save(update_fields=["country"])
    assert hours_step(phone, owner).settings["timezone"] == "America/New_York"
    # The workspace's own zone, once set, wins over its country's.
    workspace.time_zone = "America/Denver"
    workspace.save(update_fields=["time_zone"])
    assert hours_step(phone, owner).settings["timezone"] == "America/Denver"
