"""Step settings of an unexpected shape (written by a script or an old version) never break a
page: they are read through callflows.steps.display_settings, and saving the step through its
form writes clean settings again."""

import pytest
from django.urls import reverse

from callflows import services
from callflows.models import Step, StepKind
from callflows.steps import DEFAULTS, display_settings

pytestmark = pytest.mark.django_db

BAD_SHAPES = [
    [],
    [1, 2],
    "text",
    5,
    {},
    {"members": "x"},
    {"members": ["x", None, {"a": 1}]},
    {"timeout": "abc"},
    {"timeout": [20]},
    {"hours": 5},
    {"hours": {"mon": "9-5", "xyz": [], "tue": [["09:00"], ["25:00", "26:00"], 7]}},
    {"open_step": "gone", "closed_step": "gone"},
    {"open_step": ["x"], "closed_step": {"k": 1}},
    {"message": 5, "prompt": ["x"], "greeting": {"a": 1}, "number": 7, "timezone": 5},
    {"use_history": "yes", "knowledge": "all"},
]

GOOD_POSTS = {
    StepKind.GREETING: {"message": "Welcome."},
    StepKind.VOICEMAIL: {"prompt": "Leave a message."},
    StepKind.FORWARD: {"number": "+15551230000"},
    StepKind.RING_USERS: {"timeout": "25"},  # members added per test
    StepKind.BUSINESS_HOURS: {
        "timezone": "Europe/Paris",
        "mon_opens": "09:00",
        "mon_closes": "17:00",
    },
    StepKind.SONA: {"greeting": "Hello.", "use_history": "on"},
}


@pytest.fixture
def phone(workspace, owner):
    return services.phone_number_create(
        workspace=workspace, number="+15555550142", display_name="Main", user=owner
    )


def _step(phone, owner, kind):
    if kind == StepKind.SONA:
        return phone.call_flow.steps.get()
    settings = {"number": "+15551239999"} if kind == StepKind.FORWARD else None
    return services.step_add(
        call_flow=phone.call_flow, kind=kind, name=f"A {kind}", settings=settings, user=owner
    )


@pytest.mark.parametrize("kind", StepKind.values)
@pytest.mark.parametrize("shape", BAD_SHAPES, ids=repr)
def test_pages_render_and_the_form_repairs(owner_client, owner, phone, kind, shape):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    step = _step(phone, owner, kind)
    Step.objects.filter(pk=step.pk).update(settings=shape)  # what a script may write

    for url in (
        reverse("callflows:editor", args=[phone.pk]),
        reverse("callflows:step_edit", args=[phone.pk, step.pk]),
        reverse("callflows:publish", args=[phone.pk]),
        reverse("callflows:versions", args=[phone.pk]),
    ):
        assert owner_client.get(url).status_code == 200, url

    data = {"name": "Repaired", **GOOD_POSTS[kind]}
    if kind == StepKind.RING_USERS:
        data["members"] = [str(owner.pk)]
    response = owner_client.post(reverse("callflows:step_edit", args=[phone.pk, step.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    step.refresh_from_db()
    assert step.name == "Repaired"
    assert set(step.settings) == set(DEFAULTS[kind])


def test_display_settings_keeps_the_valid_parts():
    raw = {
        "members": [3, "4", "x", True],
        "timeout": "abc",
        "hours": {"mon": [["08:00", "12:00"], ["13:00", "12:00"], "x"], "tue": 5},
        "timezone": "Europe/Paris",
        "open_step": "gone",
        "closed_step": 7,
        "extra": "ignored",
    }
    assert display_settings(StepKind.RING_USERS, raw) == {"members": [3, 4], "timeout": 20}
    shown = display_settings(StepKind.BUSINESS_HOURS, raw)
    assert shown["timezone"] == "Europe/Paris"
    assert shown["hours"]["mon"] == [["08:00", "12:00"]]
    assert shown["hours"]["tue"] == []
    assert (shown["open_step"], shown["closed_step"]) == ("gone", "")
    assert "extra" not in shown


@pytest.mark.parametrize("kind", StepKind.values)
@pytest.mark.parametrize("shape", BAD_SHAPES, ids=repr)
def test_display_settings_always_has_the_defaults_keys(kind, shape):
    shown = display_settings(kind, shape)
    assert set(shown) == set(DEFAULTS[kind])
    assert shown is not DEFAULTS[kind]  # a copy: callers may change it


def test_diagram_says_a_missing_branch_is_not_set(owner_client, owner, phone):
    hours = _step(phone, owner, StepKind.BUSINESS_HOURS)
    Step.objects.filter(pk=hours.pk).update(settings={"open_step": "gone", "closed_step": 5})
    page = owner_client.get(reverse("callflows:editor", args=[phone.pk])).content.decode()
    assert "open and closed step not set" in page
