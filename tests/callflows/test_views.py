"""The call flow pages: numbers, the draft editor and its diagram, step settings, jobs of a
Sona step, publish and versions. Behaviour is tested through HTTP responses."""

import itertools
import re

import pytest
from django.urls import reverse

from callflows import services, snapshots
from callflows.models import CallFlowVersion, PhoneNumber, StepJob, StepKind
from callflows.services import AttachCheck
from jobs.models import Job
from tests.conftest import attach, attached_names, sona_of
from tests.factories import (
    JobFactory,
    JobTemplateFactory,
    MembershipFactory,
    WorkspaceFactory,
    owner_of,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
_numbers = itertools.count(1)


def make_number(workspace, user, number=None, name="Main line"):
    number = number or f"+1444{next(_numbers):07d}"
    return services.phone_number_create(
        workspace=workspace, number=number, display_name=name, user=user
    )


def add_step(phone, user, kind, name, **kwargs):
    return services.step_add(call_flow=phone.call_flow, kind=kind, name=name, user=user, **kwargs)


def step_names(phone):
    return list(phone.call_flow.steps.order_by("position").values_list("name", flat=True))


def draft(phone):
    return snapshots.build_snapshot(phone.call_flow)


def errors_of(response, field):
    """The error messages shown next to one form field."""
    return (
        [str(e) for e in response.context["form"].errors.get(field, [])]
        if "form" in (response.context or {})
        else []
    )


def url(name, *args):
    return reverse(f"callflows:{name}", args=args)


# Every page for an owner; a member reads and changes nothing -------------------------------


def all_pages(phone, owner):
    sona = sona_of(phone)
    steps = [sona] + [
        add_step(phone, owner, kind, kind.label)
        for kind in StepKind
        if kind not in (StepKind.SONA, StepKind.FORWARD)
    ]
    steps.append(
        add_step(phone, owner, StepKind.FORWARD, "Fwd", settings={"number": "+15550001111"})
    )
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    template = JobTemplateFactory(workspace=phone.workspace)
    pages = [
        url("list"),
        url("editor", phone.pk),
        url("step_jobs", phone.pk, sona.pk),
        url("publish", phone.pk),
        url("versions", phone.pk),
    ] + [url("step_edit", phone.pk, step.pk) for step in steps]
    edit_pages = [
        url("delete", phone.pk),
        url("step_new_job", phone.pk, sona.pk),
        url("step_new_job", phone.pk, sona.pk) + "?scratch=1",
        url("step_new_job", phone.pk, sona.pk) + f"?template={template.pk}",
    ]
    return pages, edit_pages, version


def test_every_page_answers_an_owner(owner_client, owner, phone):
    pages, edit_pages, _ = all_pages(phone, owner)
    for page in pages + edit_pages:
        response = owner_client.get(page)
        assert response.status_code == 200, page
    nav = owner_client.get(url("list")).text
    current = rf'href="{url("list")}" aria-current="page"><span class="icon icon-numbers" aria-hidden="true"></span>\s*Phone numbers</a>'
    assert re.search(current, nav, re.S)


def test_member_reads_every_page_without_controls(member_client, owner, phone):
    pages, edit_pages, _ = all_pages(phone, owner)
    for page in pages:
        response = member_client.get(page)
        assert response.status_code == 200, page
        text = response.text
        for control in (
            "Add number",
            "Add step",
            "Remove step",
            "Rename",
            ">Attach<",
            ">Detach<",
            ">Publish</button>",
            ">Save</button>",
            "Publish this version again",
        ):
            assert control not in text, (page, control)
    for page in edit_pages:
        assert member_client.get(page).status_code == 403, page
    step_edit = member_client.get(url("step_edit", phone.pk, sona_of(phone).pk)).text
    assert "disabled" in step_edit


def test_member_gets_403_on_every_post_and_nothing_changes(member_client, owner, phone, workspace):
    sona = sona_of(phone)
    job = JobFactory(workspace=workspace)
    attach(sona, [job], owner)
    other_job = JobFactory(workspace=workspace)
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_step(phone, owner, StepKind.GREETING, "Hello")
    second = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    before = (
        draft(phone),
        PhoneNumber.objects.count(),
        CallFlowVersion.objects.count(),
        Job.objects.count(),
    )
    posts = [
        (url("list"), {"number": "+15550009999", "display_name": "New"}),
        (url("rename", phone.pk), {"display_name": "Renamed"}),
        (url("delete", phone.pk), {}),
        (url("step_add", phone.pk), {"kind": "greeting", "name": "X"}),
        (url("step_edit", phone.pk, sona.pk), {"name": "Changed", "greeting": "Hi"}),
        (url("step_move", phone.pk, sona.pk), {"offset": "1"}),
        (url("step_remove", phone.pk, sona.pk), {}),
        (url("attach", phone.pk, sona.pk), {"job": other_job.pk}),
        (url("detach", phone.pk, sona.pk), {"job": job.pk}),
        (url("job_move", phone.pk, sona.pk), {"job": job.pk, "offset": "1"}),
        (url("step_new_job", phone.pk, sona.pk), {"name": "N", "instructions": "1. Do."}),
        (url("publish", phone.pk), {"note": "x"}),
        (url("rollback", phone.pk, version.pk), {}),
    ]
    for target, data in posts:
        assert member_client.post(target, data).status_code == 403, target
        assert member_client.post(target, data, HTTP_HX_REQUEST="true").status_code == 403, target
    phone.call_flow.refresh_from_db()
    after = (
        draft(phone),
        PhoneNumber.objects.count(),
        CallFlowVersion.objects.count(),
        Job.objects.count(),
    )
    assert after == before
    assert phone.call_flow.live_version_id == second.pk


def test_admin_may_edit(client, admin_user, phone):
    client.force_login(admin_user)
    response = client.post(url("step_add", phone.pk), {"kind": "voicemail", "name": "VM"})
    assert response.status_code == 302
    assert step_names(phone) == ["Sona", "VM"]


def test_anonymous_goes_to_login(client, phone):
    response = client.get(url("editor", phone.pk))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# Scoping: another workspace's number, another flow's step, version or job ------------------


def test_other_workspaces_objects_are_404(owner_client, owner, phone, other_workspace):
    foreign = make_number(other_workspace, owner_of(other_workspace), name="Theirs")
    foreign_step = sona_of(foreign)
    foreign_job = JobFactory(workspace=other_workspace)
    sona = sona_of(phone)
    assert owner_client.get(url("editor", foreign.pk)).status_code == 404
    # a step of another flow, through my own number
    assert owner_client.get(url("step_edit", phone.pk, foreign_step.pk)).status_code == 404
    assert owner_client.post(url("step_remove", phone.pk, foreign_step.pk)).status_code == 404
    # another workspace's job is never attached
    assert (
        owner_client.post(url("attach", phone.pk, sona.pk), {"job": foreign_job.pk}).status_code
        == 404
    )
    assert not StepJob.objects.exists()
    foreign_version = services.callflow_publish(
        call_flow=foreign.call_flow, user=owner_of(foreign.workspace)
    )
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_step(phone, owner, StepKind.GREETING, "Hi")
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    response = owner_client.post(url("rollback", phone.pk, foreign_version.pk))
    assert response.status_code == 404
    assert phone.call_flow.versions.count() == 2


def test_step_of_another_flow_in_the_same_workspace_is_404(owner_client, owner, phone, workspace):
    second = make_number(workspace, owner, name="Second")
    their_step = sona_of(second)
    for name in ("step_edit", "step_jobs"):
        assert owner_client.get(url(name, phone.pk, their_step.pk)).status_code == 404
    job = JobFactory(workspace=workspace)
    assert (
        owner_client.post(url("attach", phone.pk, their_step.pk), {"job": job.pk}).status_code
        == 404
    )
    assert not StepJob.objects.exists()


def test_jobs_pages_are_only_for_sona_steps(owner_client, owner, phone):
    greeting = add_step(phone, owner, StepKind.GREETING, "Hello")
    assert owner_client.get(url("step_jobs", phone.pk, greeting.pk)).status_code == 404
    job = JobFactory(workspace=phone.workspace)
    assert (
        owner_client.post(url("attach", phone.pk, greeting.pk), {"job": job.pk}).status_code == 404
    )


# Phone numbers ------------------------------------------------------------------------------


def test_list_shows_numbers_and_live_version(owner_client, owner, phone, workspace):
    other = make_number(workspace, owner, number="+15555550999", name="Support")
    services.callflow_publish(call_flow=other.call_flow, user=owner)
    elsewhere = WorkspaceFactory()
    make_number(elsewhere, owner_of(elsewhere), name="Elsewhere")
    text = owner_client.get(url("list")).text
    assert "+15555550123" in text and "Main line" in text and "Not published" in text
    assert "Version 1" in text
    assert "Elsewhere" not in text
    assert f'href="{url("editor", phone.pk)}"' in text
    for label in ("Phone number", "Name"):
        assert f">{label}</label>" in text
    assert "Add number" in text


def test_add_number(owner_client, workspace):
    response = owner_client.post(
        url("list"), {"number": "+1 (555) 555-0100", "display_name": " Sales "}
    )
    phone = PhoneNumber.objects.get(number="+15555550100")
    assert response.status_code == 302 and response.url == url("editor", phone.pk)
    assert (phone.workspace, phone.display_name) == (workspace, "Sales")
    assert step_names(phone) == ["Sona"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"number": "555-0100", "display_name": "X"},
            "number",
            "“555-0100” is not a phone number. Enter it in international format",
        ),
        ({"number": "", "display_name": "X"}, "number", "Enter a phone number"),
        (
            {"number": "+15555550123", "display_name": "X"},
            "number",
            "+15555550123 is already in use.",
        ),
        (
            {"number": "+15555550777", "display_name": "  "},
            "display_name",
            "Give the number a name",
        ),
        ({"number": "+15555550777", "display_name": "x" * 101}, "display_name", "at most 100"),
    ],
)
def test_add_number_errors_next_to_field(owner_client, phone, data, field, message):
    response = owner_client.post(url("list"), data)
    assert response.status_code == 200
    assert any(message in e for e in errors_of(response, field)), response.context["form"].errors
    assert 'class="field has-error"' in response.text
    assert PhoneNumber.objects.count() == 1


def test_number_of_another_workspace_is_a_duplicate_too(owner_client, other_workspace):
    make_number(other_workspace, owner_of(other_workspace), number="+15555550200")
    response = owner_client.post(url("list"), {"number": "+15555550200", "display_name": "Mine"})
    assert "+15555550200 is already in use." in errors_of(response, "number")
    assert PhoneNumber.objects.count() == 1


def test_rename(owner_client, phone):
    response = owner_client.post(url("rename", phone.pk), {"display_name": "Front desk"})
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.display_name == "Front desk"


def test_rename_error_is_shown_and_changes_nothing(owner_client, phone):
    response = owner_client.post(url("rename", phone.pk), {"display_name": "   "})
    assert response.status_code == 200
    assert "Give the number a name" in str(response.context["rename_form"].errors["display_name"])
    assert 'id="rename_display_name"' in response.text
    phone.refresh_from_db()
    assert phone.display_name == "Main line"


def test_rename_changes_the_live_generation_in_its_transaction(owner_client, phone):
    before = phone.live_generation
    owner_client.post(url("rename", phone.pk), {"display_name": "Front desk"})
    phone.refresh_from_db()
    assert phone.live_generation == before + 1


def test_delete_number_asks_first(owner_client, owner, phone):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    page = owner_client.get(url("delete", phone.pk))
    assert "1 published version" in page.text and "Delete number" in page.text
    assert PhoneNumber.objects.count() == 1
    response = owner_client.post(url("delete", phone.pk))
    assert response.status_code == 302 and response.url == url("list")
    # Moved to Recently deleted with its version (tests/callflows/test_recently_deleted.py).
    assert not PhoneNumber.objects.live().exists() and CallFlowVersion.objects.count() == 1


# The editor and its diagram -----------------------------------------------------------------


def test_editor_draws_a_diagram_with_branches(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    attach(sona, JobFactory.create_batch(3, workspace=workspace), owner)
    hours = add_step(phone, owner, StepKind.BUSINESS_HOURS, "Office hours")
    voicemail = add_step(phone, owner, StepKind.VOICEMAIL, "After hours")
    services.step_move(step=hours, offset=-1, user=owner)
    settings = {**hours.settings, "open_step": sona.key, "closed_step": voicemail.key}
    services.step_update(step=hours, name="Office hours", settings=settings, user=owner)
    text = owner_client.get(url("editor", phone.pk)).text
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'role="group" aria-labelledby="cf-diagram-title"' in svg  # its boxes are links
    # three boxes in order, connected by arrows; a branch labelled "open" and one "closed"
    assert svg.count('class="cf-box ') == 3
    assert svg.count("cf-edge cf-edge-next") == 3  # incoming call + 2 between boxes
    assert svg.count("cf-edge cf-edge-open") == 1 and svg.count("cf-edge cf-edge-closed") == 1
    assert ">open</text>" in svg and ">closed</text>" in svg
    assert "3 / 10 jobs: " in svg  # and the job names (tests/callflows/test_step_tabs.py)
    assert "Business hours" in svg and "Office hours" in svg
    assert "when open go to Sona, when closed go to After hours" in svg
    names = re.findall(r'class="cf-box-name"[^>]*>([^<]*)<', svg)
    assert names == ["Office hours", "Sona", "After hours"]


def test_editor_controls_have_accessible_names(owner_client, owner, phone):
    add_step(phone, owner, StepKind.GREETING, "Greeting")
    text = owner_client.get(url("editor", phone.pk)).text
    for name in (
        'aria-label="Remove step Greeting"',
        '>Move up<span class="sr-only"> step Greeting</span>',
        '>Move down<span class="sr-only"> step Sona</span>',
        'aria-label="Edit step Greeting"',
    ):
        assert name in text
    assert 'Move up<span class="sr-only"> step Sona<' not in text  # already first
    for label in ("Step kind", "Step name", "Forward to", "Name"):
        assert f">{label}</label>" in text
    for button in ("Add step", "Rename"):
        assert f">{button}</button>" in text
    assert f'href="{url("publish", phone.pk)}"' in text
    assert f'href="{url("versions", phone.pk)}"' in text
    assert f'href="{url("delete", phone.pk)}"' in text


def test_editor_says_whether_the_draft_differs(owner_client, owner, phone):
    assert "Not published yet." in owner_client.get(url("editor", phone.pk)).text
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert (
        "The draft is the same as the live version (version 1)."
        in owner_client.get(url("editor", phone.pk)).text
    )
    add_step(phone, owner, StepKind.GREETING, "Hello")
    assert "The draft has unpublished changes." in owner_client.get(url("editor", phone.pk)).text


# Steps: add, move, remove -------------------------------------------------------------------


def test_add_steps(owner_client, phone):
    response = owner_client.post(url("step_add", phone.pk), {"kind": "greeting", "name": " Hello "})
    assert response.status_code == 302 and response.url == url("editor", phone.pk)
    response = owner_client.post(
        url("step_add", phone.pk),
        {"kind": "forward", "name": "Office", "forward_to": "+1 555 000 1111"},
    )
    assert response.status_code == 302
    assert step_names(phone) == ["Sona", "Hello", "Office"]
    assert phone.call_flow.steps.get(name="Office").settings == {"number": "+15550001111"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "forward", "name": "Office"}, "forward_to", "The number is required."),
        (
            {"kind": "forward", "name": "Office", "forward_to": "12345"},
            "forward_to",
            "“12345” is not a phone number",
        ),
        (
            {"kind": "greeting", "name": "Hi", "forward_to": "+15550001111"},
            "forward_to",
            "Only forward steps",
        ),
        ({"kind": "teleport", "name": "Beam"}, "kind", "Choose a step kind."),
        ({"kind": "greeting", "name": "  "}, "name", "Give the step a name."),
    ],
)
def test_add_step_errors_next_to_field(owner_client, phone, data, field, message):
    response = owner_client.post(url("step_add", phone.pk), data)
    assert response.status_code == 200
    errors = [str(e) for e in response.context["add_form"].errors.get(field, [])]
    assert any(message in e for e in errors), response.context["add_form"].errors
    assert f'id="add_{field}_errors"' in response.text
    assert step_names(phone) == ["Sona"]


def test_move_and_remove_steps(owner_client, owner, phone):
    hello = add_step(phone, owner, StepKind.GREETING, "Hello")
    owner_client.post(url("step_move", phone.pk, hello.pk), {"offset": "-1"})
    assert step_names(phone) == ["Hello", "Sona"]
    owner_client.post(url("step_move", phone.pk, hello.pk), {"offset": "1"})
    assert step_names(phone) == ["Sona", "Hello"]
    response = owner_client.post(url("step_move", phone.pk, hello.pk), {"offset": "7"}, follow=True)
    assert "Choose to move the step up or down." in response.text
    assert step_names(phone) == ["Sona", "Hello"]
    response = owner_client.post(url("step_remove", phone.pk, hello.pk), follow=True)
    assert "removed from the draft" in response.text
    assert step_names(phone) == ["Sona"]
    assert owner_client.get(url("step_move", phone.pk, hello.pk)).status_code == 405


def test_remove_asks_first_with_htmx(owner_client, owner, phone):
    hello = add_step(phone, owner, StepKind.GREETING, "Hello")
    editor = owner_client.get(url("editor", phone.pk)).text
    assert 'hx-confirm="Remove the step “Hello” from the draft?' in editor
    response = owner_client.post(url("step_remove", phone.pk, hello.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == url("editor", phone.pk)
    assert step_names(phone) == ["Sona"]


# Step settings, per kind -------------------------------------------------------------------


def post_settings(client, phone, step, **data):
    return client.post(url("step_edit", phone.pk, step.pk), {"name": step.name, **data})


def hours_data(**changes):
    data = {"timezone": "Europe/Berlin", "open_step": "", "closed_step": ""}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data[f"{day}_opens"], data[f"{day}_closes"] = (
            ("09:00", "17:00") if day not in ("sat", "sun") else ("", "")
        )
    return data | changes


def test_greeting_and_voicemail_settings(owner_client, owner, phone):
    greeting = add_step(phone, owner, StepKind.GREETING, "Hello")
    page = owner_client.get(url("step_edit", phone.pk, greeting.pk)).text
    assert ">Message</label>" in page and ">Step name</label>" in page
    response = post_settings(
        owner_client, phone, greeting, name="Welcome", message="Welcome to Bob's.\r\nHi"
    )
    assert response.status_code == 302
    greeting.refresh_from_db()
    assert (greeting.name, greeting.settings) == ("Welcome", {"message": "Welcome to Bob's.\nHi"})
    response = post_settings(owner_client, phone, greeting, message="  ")
    assert "The message is required." in errors_of(response, "message")
    voicemail = add_step(phone, owner, StepKind.VOICEMAIL, "VM")
    assert (
        ">Voicemail prompt</label>"
        in owner_client.get(url("step_edit", phone.pk, voicemail.pk)).text
    )
    post_settings(owner_client, phone, voicemail, prompt="Leave a message.")
    voicemail.refresh_from_db()
    assert voicemail.settings == {"prompt": "Leave a message."}


def test_step_name_error_saves_nothing(owner_client, owner, phone):
    greeting = add_step(phone, owner, StepKind.GREETING, "Hello")
    response = post_settings(owner_client, phone, greeting, name="", message="Changed")
    assert "Give the step a name." in errors_of(response, "name")
    greeting.refresh_from_db()
    assert (greeting.name, greeting.settings) == ("Hello", {"message": "Thanks for calling."})


def test_forward_settings(owner_client, owner, phone):
    forward = add_step(
        phone, owner, StepKind.FORWARD, "Office", settings={"number": "+15550001111"}
    )
    response = post_settings(owner_client, phone, forward, number="call me maybe")
    assert response.status_code == 200
    assert any("is not a phone number" in e for e in errors_of(response, "number"))
    assert "has-error" in response.text
    forward.refresh_from_db()
    assert forward.settings == {"number": "+15550001111"}
    post_settings(owner_client, phone, forward, number="+44 20 7946 0000")
    forward.refresh_from_db()
    assert forward.settings == {"number": "+442079460000"}


def test_ring_users_settings(owner_client, owner, phone, workspace):
    teammate = MembershipFactory(workspace=workspace, role=Role.MEMBER).user
    outsider = MembershipFactory(role=Role.OWNER).user
    ring = add_step(phone, owner, StepKind.RING_USERS, "Ring the team")
    before = dict(ring.settings)
    page = owner_client.get(url("step_edit", phone.pk, ring.pk)).text
    assert "<legend>Members to ring</legend>" in page and teammate.email in page
    assert outsider.email not in page
    assert ">Ring timeout (seconds)</label>" in page
    for timeout in ("4", "121"):
        response = post_settings(owner_client, phone, ring, members=[teammate.pk], timeout=timeout)
        assert "The ring timeout must be between 5 and 120 seconds." in errors_of(
            response, "timeout"
        )
    response = post_settings(owner_client, phone, ring, members=[outsider.pk], timeout="20")
    assert "Only members of this workspace can be rung." in errors_of(response, "members")
    response = post_settings(owner_client, phone, ring, timeout="20")
    assert "Choose at least one member to ring." in errors_of(response, "members")
    ring.refresh_from_db()
    assert ring.settings == before
    assert (
        post_settings(owner_client, phone, ring, members=[teammate.pk], timeout="45").status_code
        == 302
    )
    ring.refresh_from_db()
    assert ring.settings == {"members": [teammate.pk], "timeout": 45}


def test_business_hours_settings(owner_client, owner, phone):
    sona = sona_of(phone)
    hours = add_step(phone, owner, StepKind.BUSINESS_HOURS, "Hours")
    voicemail = add_step(phone, owner, StepKind.VOICEMAIL, "VM")
    page = owner_client.get(url("step_edit", phone.pk, hours.pk)).text
    for label in (
        ">Time zone</label>",
        ">Step when open</label>",
        ">Step when closed</label>",
        '<span class="sr-only">Monday </span>opens</label>',
        '<span class="sr-only">Sunday </span>closes</label>',
    ):
        assert label in page
    assert f'<option value="{sona.key}">Sona</option>' in page
    assert f'value="{hours.key}"' not in page  # not itself
    assert 'value="America/New_York"' in page  # the time zone input
    response = post_settings(
        owner_client,
        phone,
        hours,
        **hours_data(
            sat_opens="10:00", sat_closes="14:00", open_step=sona.key, closed_step=voicemail.key
        ),
    )
    assert response.status_code == 302
    hours.refresh_from_db()
    assert hours.settings["timezone"] == "Europe/Berlin"
    assert hours.settings["hours"]["mon"] == [["09:00", "17:00"]]
    assert hours.settings["hours"]["sat"] == [["10:00", "14:00"]]
    assert hours.settings["hours"]["sun"] == []
    assert (hours.settings["open_step"], hours.settings["closed_step"]) == (sona.key, voicemail.key)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"timezone": "Mars/Olympus_Mons"},
            "timezone",
            "“Mars/Olympus_Mons” is not a known time zone",
        ),
        (
            {"tue_opens": "18:00", "tue_closes": "09:00"},
            "tue_opens",
            "Tuesday: the opening time must be before the closing time.",
        ),
        (
            {"wed_opens": "09:00", "wed_closes": ""},
            "wed_opens",
            "Wednesday: give both an opening and a closing time",
        ),
        ({"thu_opens": "9am", "thu_closes": "5pm"}, "thu_opens", "Thursday: times are HH:MM"),
        ({"open_step": "nope"}, "open_step", "Choose another step of this call flow"),
    ],
)
def test_business_hours_errors(owner_client, owner, phone, changes, field, message):
    hours = add_step(phone, owner, StepKind.BUSINESS_HOURS, "Hours")
    before = dict(hours.settings)
    response = post_settings(owner_client, phone, hours, **hours_data(**changes))
    assert response.status_code == 200
    assert any(message in e for e in errors_of(response, field)), response.context["form"].errors
    assert 'role="alert"' in response.text
    hours.refresh_from_db()
    assert hours.settings == before


def test_business_hours_keeps_extra_ranges(owner_client, owner, phone):
    hours = add_step(phone, owner, StepKind.BUSINESS_HOURS, "Hours")
    settings = {
        **hours.settings,
        "hours": {**hours.settings["hours"], "mon": [["08:00", "12:00"], ["13:00", "17:00"]]},
    }
    services.step_update(step=hours, name="Hours", settings=settings, user=owner)
    page = owner_client.get(url("step_edit", phone.pk, hours.pk)).text
    assert "Also open 13:00–17:00 (kept as is)." in page
    post_settings(owner_client, phone, hours, **hours_data(mon_opens="07:00", mon_closes="12:00"))
    hours.refresh_from_db()
    assert hours.settings["hours"]["mon"] == [["07:00", "12:00"], ["13:00", "17:00"]]


def test_sona_settings_and_jobs_on_the_step_page(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    attach(sona, [JobFactory(workspace=workspace, name="Take a message")], owner)
    page = owner_client.get(url("step_edit", phone.pk, sona.pk)).text
    assert ">Greeting</label>" in page
    assert ">Use the caller&#x27;s recent conversation history</label>" in page
    assert "1 / 10 jobs attached." in page and "Take a message" in page
    assert f'href="{url("step_jobs", phone.pk, sona.pk)}"' in page
    response = post_settings(owner_client, phone, sona, greeting="Hello from Bob's")
    assert response.status_code == 302
    sona.refresh_from_db()
    assert sona.settings["greeting"] == "Hello from Bob's"
    assert sona.settings["use_history"] is False  # unchecked box
    post_settings(owner_client, phone, sona, greeting="Hi", use_history="on")
    sona.refresh_from_db()
    assert sona.settings["use_history"] is True
    assert attached_names(sona) == ["Take a message"]


# Jobs of a Sona step ------------------------------------------------------------------------


def test_jobs_page_lists_attached_and_library(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    first, second = (
        JobFactory(workspace=workspace, name="Alpha"),
        JobFactory(workspace=workspace, name="Beta"),
    )
    JobFactory(workspace=workspace, name="Gamma")
    attach(sona, [second, first], owner)
    text = owner_client.get(url("step_jobs", phone.pk, sona.pk)).text
    assert "2 / 10 jobs attached" in text
    for name in (
        'aria-label="Detach Beta"',
        '>Move down<span class="sr-only"> Beta</span>',
        '>Move up<span class="sr-only"> Alpha</span>',
        'aria-label="Attach Gamma"',
    ):
        assert name in text
    assert 'aria-label="Attach Alpha"' not in text
    assert ">Search jobs</label>" in text
    assert f'href="{url("step_new_job", phone.pk, sona.pk)}"' in text
    response = owner_client.get(url("step_jobs", phone.pk, sona.pk), {"q": "gam"})
    assert [job.name for job in response.context["page"]] == ["Gamma"]


def test_job_library_shows_the_first_20_matches_not_pages(
    owner_client, phone, workspace, django_assert_num_queries
):
    """Issue 22.4: a search-as-you-type list (was: pages of the whole library)."""
    sona = sona_of(phone)
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Job {i:03}", instructions="x") for i in range(30)
    )
    response = owner_client.get(url("step_jobs", phone.pk, sona.pk), {"page": 2})
    assert [job.name for job in response.context["page"]][:2] == ["Job 000", "Job 001"]
    assert len(response.context["page"]) == 20 and "Page 2 of" not in response.text
    assert "The first 20 jobs. Type more of a name to narrow them." in response.text
    response = owner_client.get(url("step_jobs", phone.pk, sona.pk), {"q": "job 02"})
    assert len(response.context["page"]) == 10 and "10 jobs matching “job 02”" in response.text


def _jobs_panel(client, phone, sona, queries, **params):
    with queries() as captured:
        response = client.get(url("step_jobs", phone.pk, sona.pk), params)
    assert response.status_code == 200
    return response, len(captured.captured_queries)


def test_jobs_panel_is_flat_in_the_number_of_jobs(
    owner_client, owner, phone, workspace, django_assert_max_num_queries
):
    sona = sona_of(phone)
    jobs = Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Job {i:03}", trigger="t", instructions="x")
        for i in range(10)
    )
    attach(sona, jobs[:2], owner)
    queries = lambda: django_assert_max_num_queries(100)  # noqa: E731 (counted, not capped)
    _jobs_panel(owner_client, phone, sona, queries)  # warm the caches first
    small, few = _jobs_panel(owner_client, phone, sona, queries)
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"More {i:03}", trigger="t", instructions="x")
        for i in range(290)
    )
    large, many = _jobs_panel(owner_client, phone, sona, queries)
    assert many == few
    assert len(large.content) <= len(small.content) + 10 * 800  # 10 rows more, then flat
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Most {i:03}", trigger="t", instructions="x")
        for i in range(300)
    )
    larger, most = _jobs_panel(owner_client, phone, sona, queries)
    assert most == few and len(larger.content) == len(large.content)


def test_typing_in_the_job_search_swaps_only_the_matches(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    alpha = JobFactory(workspace=workspace, name="Alpha")
    JobFactory(workspace=workspace, name="Beta")
    attach(sona, [alpha], owner)
    page = owner_client.get(url("step_jobs", phone.pk, sona.pk)).text
    assert 'hx-target="#jobs-results"' in page and 'id="jobs-results"' in page
    response = owner_client.get(
        url("step_jobs", phone.pk, sona.pk),
        {"q": "a"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="jobs-results",
    )
    text = response.text
    assert '<div id="jobs-results"' in text
    assert "<html" not in text and "Attached jobs" not in text
    assert 'aria-label="Attach Beta"' in text and '<span class="badge">Attached</span>' in text


def test_attach_detach_and_reorder(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    a, b, c = (JobFactory(workspace=workspace, name=n) for n in ("A", "B", "C"))
    for job in (a, b, c):
        response = owner_client.post(
            url("attach", phone.pk, sona.pk), {"job": job.pk, "q": "", "page": "1"}
        )
        assert response.status_code == 302
        assert response.url.startswith(url("step_jobs", phone.pk, sona.pk))
    assert attached_names(sona) == ["A", "B", "C"]
    owner_client.post(url("job_move", phone.pk, sona.pk), {"job": c.pk, "offset": "-1"})
    assert attached_names(sona) == ["A", "C", "B"]
    owner_client.post(url("job_move", phone.pk, sona.pk), {"job": a.pk, "offset": "1"})
    assert attached_names(sona) == ["C", "A", "B"]
    response = owner_client.post(url("detach", phone.pk, sona.pk), {"job": a.pk}, follow=True)
    assert "Detached “A”" in response.text
    assert attached_names(sona) == ["C", "B"]
    assert Job.objects.filter(pk=a.pk).exists()
    # the same job twice, a job that is not attached, a bad offset, no job
    response = owner_client.post(url("attach", phone.pk, sona.pk), {"job": b.pk}, follow=True)
    assert "“B” is already attached to this step." in response.text
    response = owner_client.post(url("detach", phone.pk, sona.pk), {"job": a.pk}, follow=True)
    assert "“A” is not attached to this step." in response.text
    response = owner_client.post(
        url("job_move", phone.pk, sona.pk), {"job": b.pk, "offset": "3"}, follow=True
    )
    assert "Choose to move the job up or down." in response.text
    response = owner_client.post(url("attach", phone.pk, sona.pk), {"job": "abc"}, follow=True)
    assert "Choose a job." in response.text
    assert attached_names(sona) == ["C", "B"]


def test_attach_and_detach_with_htmx_swap_the_panel(owner_client, phone, workspace):
    sona = sona_of(phone)
    job = JobFactory(workspace=workspace, name="Take a message")
    response = owner_client.post(
        url("attach", phone.pk, sona.pk),
        {"job": job.pk, "q": "message", "page": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="jobs-panel"')
    assert "<html" not in response.text
    assert "Attached “Take a message”." in response.text
    assert "1 / 10 jobs attached" in response.text
    assert 'aria-label="Detach Take a message"' in response.text
    assert 'hx-post="' in response.text and 'hx-target="#jobs-panel"' in response.text
    assert response.context["query"] == "message"
    response = owner_client.post(
        url("detach", phone.pk, sona.pk), {"job": job.pk}, HTTP_HX_REQUEST="true"
    )
    assert (
        "0 / 10 jobs attached" in response.text
        and 'aria-label="Attach Take a message"' in response.text
    )
    assert attached_names(sona) == []


def test_jobs_panel_says_the_step_is_full_as_the_service_decides(
    owner_client, owner, phone, workspace
):
    sona = sona_of(phone)
    jobs = JobFactory.create_batch(10, workspace=workspace)
    attach(sona, jobs[:9], owner)
    page = owner_client.get(url("step_jobs", phone.pk, sona.pk)).text
    assert "9 / 10 jobs attached" in page and "Detach one to attach another" not in page
    attach(sona, jobs[9:], owner)
    page = owner_client.get(url("step_jobs", phone.pk, sona.pk)).text
    assert "A Sona step can have at most 10 jobs. Detach one to attach another." in page


def test_eleventh_job_is_refused_with_the_services_message(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    jobs = JobFactory.create_batch(11, workspace=workspace)
    attach(sona, jobs[:10], owner)
    before = attached_names(sona)
    page = owner_client.get(url("step_jobs", phone.pk, sona.pk)).text
    assert "10 / 10 jobs attached" in page
    response = owner_client.post(
        url("attach", phone.pk, sona.pk), {"job": jobs[10].pk}, follow=True
    )
    assert "A Sona step can have at most 10 jobs" in response.text
    assert 'class="error"' in response.text
    response = owner_client.post(
        url("attach", phone.pk, sona.pk), {"job": jobs[10].pk}, HTTP_HX_REQUEST="true"
    )
    assert "A Sona step can have at most 10 jobs" in response.text
    # Announced through the page's permanent live region (an out-of-band htmx swap).
    assert 'hx-swap-oob="innerHTML:#jobs-announce"' in response.text
    assert attached_names(sona) == before


def test_deleted_job_is_not_attached(owner_client, phone, workspace):
    sona = sona_of(phone)
    job = JobFactory(workspace=workspace, deleted_at="2026-01-01T00:00:00Z")
    response = owner_client.post(url("attach", phone.pk, sona.pk), {"job": job.pk}, follow=True)
    assert "That job was deleted." in response.text
    assert attached_names(sona) == []


# A new job from the step --------------------------------------------------------------------


def test_new_job_from_scratch_is_attached(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    gallery = owner_client.get(url("step_new_job", phone.pk, sona.pk)).text
    assert "Start from scratch" in gallery
    form = owner_client.get(url("step_new_job", phone.pk, sona.pk) + "?scratch=1").text
    assert ">Instructions</label>" in form
    response = owner_client.post(
        url("step_new_job", phone.pk, sona.pk),
        {"name": "Book a table", "instructions": "1. Ask for the time."},
    )
    assert response.status_code == 302 and response.url == url("step_jobs", phone.pk, sona.pk)
    job = Job.objects.get(name="Book a table")
    assert (job.workspace, job.created_by) == (workspace, owner)
    assert attached_names(sona) == ["Book a table"]


def test_new_job_from_a_template(owner_client, phone, workspace):
    sona = sona_of(phone)
    template = JobTemplateFactory(
        workspace=workspace, name="Take a message", instructions="1. Take it."
    )
    page = owner_client.get(url("step_new_job", phone.pk, sona.pk))
    assert f'aria-label="Use template {template.name}"' in page.text
    form = owner_client.get(url("step_new_job", phone.pk, sona.pk), {"template": template.pk}).text
    assert "1. Take it." in form and f'name="template" value="{template.pk}"' in form
    owner_client.post(
        url("step_new_job", phone.pk, sona.pk),
        {"name": "Messages", "instructions": "1. Take it.", "template": template.pk},
    )
    job = Job.objects.get(name="Messages")
    assert job.template == template
    assert attached_names(sona) == ["Messages"]
    foreign = JobTemplateFactory(workspace=WorkspaceFactory())
    assert (
        owner_client.get(
            url("step_new_job", phone.pk, sona.pk), {"template": foreign.pk}
        ).status_code
        == 404
    )


def test_new_job_errors_keep_the_text_and_attach_nothing(owner_client, phone, workspace):
    sona = sona_of(phone)
    JobFactory(workspace=workspace, name="Taken")
    response = owner_client.post(
        url("step_new_job", phone.pk, sona.pk), {"name": "taken", "instructions": "My long text"}
    )
    assert response.status_code == 200
    assert "A job with this name already exists" in str(response.context["form"].errors["name"])
    assert "My long text" in response.text
    assert Job.objects.count() == 1 and attached_names(sona) == []


def test_new_job_refused_up_front_when_the_step_is_full(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    attach(sona, JobFactory.create_batch(10, workspace=workspace), owner)
    count = Job.objects.count()
    for response in (
        owner_client.get(url("step_new_job", phone.pk, sona.pk), follow=True),
        owner_client.post(
            url("step_new_job", phone.pk, sona.pk), {"name": "N", "instructions": "x"}, follow=True
        ),
    ):
        assert "A Sona step can have at most 10 jobs" in response.text
    assert Job.objects.count() == count and len(attached_names(sona)) == 10


def test_new_job_kept_in_the_library_when_a_teammate_filled_the_step(
    owner_client, owner, phone, workspace, monkeypatch
):
    sona = sona_of(phone)
    attach(sona, JobFactory.create_batch(10, workspace=workspace), owner)
    # the up-front check ran before a teammate attached the 10th job
    monkeypatch.setattr("callflows.services.step_can_attach", lambda *a, **kw: AttachCheck(True))
    response = owner_client.post(
        url("step_new_job", phone.pk, sona.pk),
        {"name": "Late job", "instructions": "1. Text kept."},
        follow=True,
    )
    assert "Job “Late job” was saved in the job library but could not be attached" in response.text
    assert "A Sona step can have at most 10 jobs" in response.text
    assert Job.objects.get(name="Late job").instructions == "1. Text kept."
    assert "Late job" not in attached_names(sona) and len(attached_names(sona)) == 10


# Publish and versions -----------------------------------------------------------------------


def test_publish_preview_names_jobs(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    kept, dropped, added = (
        JobFactory(workspace=workspace, name=n) for n in ("Kept job", "Dropped job", "New job")
    )
    attach(sona, [kept, dropped], owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=dropped, user=owner)
    services.step_attach_job(step=sona, job=added, user=owner)
    add_step(phone, owner, StepKind.VOICEMAIL, "Voicemail box")
    text = owner_client.get(url("publish", phone.pk)).text
    assert "against the live version (version 1)" in text
    assert "Step added: “Voicemail box”" in text
    assert "Jobs attached to “Sona”" in text and "<li>New job</li>" in text
    assert "Jobs detached from “Sona”" in text and "<li>Dropped job</li>" in text
    assert f"#{added.pk}" not in text
    assert ">Note</label>" in text and ">Publish</button>" in text


def test_publish_and_double_publish(owner_client, owner, phone):
    response = owner_client.post(url("publish", phone.pk), {"note": "First go-live"}, follow=True)
    assert response.redirect_chain[-1][0] == url("versions", phone.pk)
    assert "Published version 1." in response.text
    version = CallFlowVersion.objects.get()
    assert (version.number, version.note, version.published_by) == (1, "First go-live", owner)
    response = owner_client.post(url("publish", phone.pk), {"note": "again"}, follow=True)
    assert "Nothing to publish: the draft is the same as the live version." in response.text
    assert CallFlowVersion.objects.count() == 1
    page = owner_client.get(url("publish", phone.pk)).text
    assert "Nothing to publish: the draft is the same as the live version." in page
    assert ">Publish</button>" not in page


def test_publish_note_too_long_changes_nothing(owner_client, phone):
    response = owner_client.post(url("publish", phone.pk), {"note": "x" * 501})
    assert response.status_code == 200
    assert "at most 500 characters" in str(response.context["form"].errors["note"])
    assert not CallFlowVersion.objects.exists()


def test_versions_and_rollback_when_the_draft_follows(owner_client, owner, phone):
    flow = phone.call_flow
    services.callflow_publish(call_flow=flow, user=owner, note="one")
    add_step(phone, owner, StepKind.GREETING, "Hello")
    services.callflow_publish(call_flow=flow, user=owner, note="two")
    text = owner_client.get(url("versions", phone.pk)).text
    assert text.count("Publish this version again") == 1  # not on the live version
    assert ">Publish this version again</button>" in text and "Live" in text
    first = flow.versions.get(number=1)
    confirm = owner_client.get(url("rollback", phone.pk, first.pk)).text
    assert "so it will follow version 1." in confirm and ">Confirm</button>" in confirm
    response = owner_client.post(
        url("rollback", phone.pk, first.pk), {"confirm": "yes", "live": "2"}, follow=True
    )
    assert "Version 1 is live again, published as version 3." in response.text
    assert "Your draft now matches the live version." in response.text
    assert "rolled back from 1" in response.text
    assert step_names(phone) == ["Sona"]
    flow.refresh_from_db()
    assert flow.live_version.number == 3


def test_rollback_keeps_a_changed_draft(owner_client, owner, phone):
    flow = phone.call_flow
    services.callflow_publish(call_flow=flow, user=owner)
    add_step(phone, owner, StepKind.GREETING, "Hello")
    services.callflow_publish(call_flow=flow, user=owner)
    add_step(phone, owner, StepKind.VOICEMAIL, "Unpublished work")
    target = url("rollback", phone.pk, flow.versions.get(number=1).pk)
    assert "Your draft has unpublished changes: it is kept" in owner_client.get(target).text
    response = owner_client.post(target, {"confirm": "yes", "live": "2"}, follow=True)
    assert "Your draft was kept; it differs from the live version." in response.text
    assert step_names(phone) == ["Sona", "Hello", "Unpublished work"]


def test_rollback_to_the_live_version_is_refused(owner_client, owner, phone):
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    response = owner_client.post(
        url("rollback", phone.pk, version.pk), {"confirm": "yes", "live": "1"}, follow=True
    )
    assert "Version 1 is already live." in response.text
    assert ">Confirm</button>" not in response.text
    assert CallFlowVersion.objects.count() == 1


def test_versions_page_is_paginated(owner_client, owner, phone):
    flow = phone.call_flow
    for i in range(27):
        add_step(phone, owner, StepKind.GREETING, f"G{i}")
        services.callflow_publish(call_flow=flow, user=owner)
    response = owner_client.get(url("versions", phone.pk), {"page": 2})
    assert [v.number for v in response.context["page"]] == [2, 1]


# User text is escaped -----------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(owner_client, owner, workspace):
    phone = make_number(workspace, owner, name=XSS)
    sona = sona_of(phone)
    services.step_update(step=sona, name=XSS, settings=sona.settings, user=owner)
    job = JobFactory(workspace=workspace, name=XSS, trigger=XSS)
    services.step_attach_job(step=sona, job=job, user=owner)
    hours = add_step(phone, owner, StepKind.BUSINESS_HOURS, XSS + " hours")
    settings = {**hours.settings, "open_step": sona.key, "closed_step": sona.key}
    services.step_update(step=hours, name=XSS + " hours", settings=settings, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner, note=XSS)
    services.step_detach_job(step=sona, job=job, user=owner)
    for page in (
        url("list"),
        url("editor", phone.pk),
        url("step_edit", phone.pk, sona.pk),
        url("step_edit", phone.pk, hours.pk),
        url("step_jobs", phone.pk, sona.pk),
        url("publish", phone.pk),
        url("versions", phone.pk),
        url("delete", phone.pk),
    ):
        text = owner_client.get(page).text
        assert XSS not in text, page
        assert ESCAPED in text, page
    publish = owner_client.get(url("publish", phone.pk)).text
    assert f"<li>{ESCAPED}</li>" in publish  # the detached job, by name
    response = owner_client.post(
        url("attach", phone.pk, sona.pk), {"job": job.pk}, HTTP_HX_REQUEST="true"
    )
    assert XSS not in response.text and ESCAPED in response.text


# Query counts stay constant -----------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 60])
def test_list_query_count(owner_client, owner, workspace, count, django_assert_max_num_queries):
    for i in range(count):
        number = make_number(workspace, owner, name=f"Line {i:03}")
        if i % 2:
            services.callflow_publish(call_flow=number.call_flow, user=owner)
    # session, user, membership, count, page of numbers, header switcher
    with django_assert_max_num_queries(6):
        response = owner_client.get(url("list"))
    assert len(response.context["page"]) == min(count, 25)


@pytest.mark.parametrize("count", [2, 20])
def test_editor_query_count(
    owner_client, owner, phone, workspace, count, django_assert_max_num_queries
):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    jobs = JobFactory.create_batch(3, workspace=workspace)
    for i in range(count - 1):
        kind = [StepKind.GREETING, StepKind.SONA, StepKind.BUSINESS_HOURS, StepKind.VOICEMAIL][
            i % 4
        ]
        step = add_step(phone, owner, kind, f"Step {i}")
        if kind == StepKind.SONA:
            attach(step, jobs, owner)
    assert phone.call_flow.steps.count() == count
    # session, user, membership, number+flow+live version, steps with job counts, the steps'
    # jobs and knowledge pages (names in the diagram), draft snapshot (steps, attachments), header switcher; the calls panel (calls app): versions,
    # calls per day and outcome, calls since the last publish; outcomes (outcomes app): versions,
    # figures per version, Sona steps, figures per step
    with django_assert_max_num_queries(17):
        response = owner_client.get(url("editor", phone.pk))
    assert response.text.count('class="cf-box ') == count


@pytest.mark.parametrize("count", [1, 10])
def test_step_jobs_query_count(
    owner_client, owner, phone, workspace, count, django_assert_max_num_queries
):
    sona = sona_of(phone)
    attach(sona, JobFactory.create_batch(count, workspace=workspace), owner)
    JobFactory.create_batch(count * 3, workspace=workspace)
    # session, user, membership, number, step, attachments with jobs, library count + page, header,
    # confusable jobs (calls app: jobs, test cases and the jobs' stored vectors)
    with django_assert_max_num_queries(12):
        response = owner_client.get(url("step_jobs", phone.pk, sona.pk))
    assert f"{count} / 10 jobs attached" in response.text
    last = Job.objects.last()
    # the page's reads without the header, plus the attach (role check: number and membership;
    # job, lock, checks, writes; the audit event: its workspace and insert)
    with django_assert_max_num_queries(24):
        response = owner_client.post(
            url("attach", phone.pk, sona.pk), {"job": last.pk}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 10])
def test_publish_preview_query_count(
    owner_client, owner, phone, workspace, count, django_assert_max_num_queries
):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    for i in range(count):
        step = add_step(phone, owner, StepKind.SONA, f"Sona {i}")
        attach(step, JobFactory.create_batch(count, workspace=workspace), owner)
    # session, user, membership, number, draft snapshot (2), job names (1), the checks' jobs
    # (1), header; the calls app: saved test cases (1), confusable jobs: jobs, cases and the
    # jobs' stored vectors (3)
    with django_assert_max_num_queries(13):
        response = owner_client.get(url("publish", phone.pk))
    assert response.text.count("Step added:") == count


@pytest.mark.parametrize("count", [2, 30])
def test_versions_query_count(owner_client, owner, phone, count, django_assert_max_num_queries):
    for i in range(count):
        add_step(phone, owner, StepKind.GREETING, f"G{i}")
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with django_assert_max_num_queries(7):
        response = owner_client.get(url("versions", phone.pk))
    assert len(response.context["page"]) == min(count, 25)
