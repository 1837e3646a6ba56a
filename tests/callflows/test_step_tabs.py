"""The call flow editor as the place to work (issue 12, point 3, first part): diagram boxes
open their step, the Sona box names its jobs and knowledge, and a step's pages are tabs."""

import pytest
from django.urls import reverse

from callflows import services
from callflows.models import StepKind
from tests.conftest import attach, sona_of
from tests.factories import JobFactory, KnowledgePageFactory, MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def _panel(phone, step, query=True):
    return f"{phone.get_absolute_url()}?step={step.pk}" + ("#step-panel" if query else "")


def test_diagram_boxes_and_edit_links_open_the_step_beside_the_diagram(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello <b>", user=owner
    )
    text = owner_client.get(phone.get_absolute_url()).text
    svg = text[text.index("<svg") : text.index("</svg>")]
    for step in (sona_of(phone), greeting):
        # A plain link (works without JavaScript); htmx swaps the editor in place and pushes it.
        hx = (
            f'hx-get="{_panel(phone, step, query=False)}" hx-select="#cf-layout" '
            'hx-target="#cf-layout" hx-swap="outerHTML" hx-push-url="true" data-guard-leave'
        )
        assert f'<a href="{_panel(phone, step)}" class="cf-box-link" {hx}>' in svg
        assert f'<a href="{_panel(phone, step)}" {hx} aria-label="Edit step ' in text
    assert "Hello &lt;b&gt;" in svg and "Hello <b>" not in svg
    assert 'id="step-panel"' not in text and 'aria-current="true"' not in text
    assert "Choose a step in the diagram, or its Edit button" in text


def test_the_step_panel_shows_the_settings_beside_the_diagram(
    owner_client, owner, phone, workspace
):
    sona = sona_of(phone)
    attach(sona, [JobFactory(workspace=workspace, name="Book")], owner)
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    text = owner_client.get(_panel(phone, greeting, query=False)).text
    layout = text[text.index('id="cf-layout"') :]
    panel = layout[
        layout.index('<section id="step-panel"') : layout.index('aria-labelledby="steps-heading"')
    ]
    assert layout.index("<svg") < layout.index('id="step-panel"')  # beside (after) the diagram
    assert 'Edit step “Hello” <span class="badge">Greeting / play message</span></h2>' in panel
    assert ' aria-current="page">Settings</a>' in panel and ">Jobs</a>" not in panel
    action = reverse("callflows:step_edit", args=[phone.pk, greeting.pk])
    assert f'<form method="post" action="{action}" class="step-form"' in panel
    assert '<input type="hidden" name="from" value="editor">' in panel
    assert 'name="message"' in panel and ">Save</button>" in panel
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert svg.count('aria-current="true"') == 1 and svg.count("cf-box-selected") == 1
    selected = svg[svg.index('aria-current="true"') :]
    assert "Hello" in selected[: selected.index("</a>")]
    # A Sona step's panel names its jobs and links its tabs.
    text = owner_client.get(_panel(phone, sona, query=False)).text
    panel = text[
        text.index('<section id="step-panel"') : text.index('aria-labelledby="steps-heading"')
    ]
    assert '<h3 id="attached-heading">Jobs</h3>' in panel and ">Book</a>" in panel
    for tab in ("Jobs", "Knowledge", "Test Sona", "Tests"):
        assert f">{tab}</a>" in panel


@pytest.mark.parametrize("value", ["999999", "abc", "", "-1"])
def test_an_unknown_step_in_the_editor_is_a_404(owner_client, phone, value):
    assert owner_client.get(f"{phone.get_absolute_url()}?step={value}").status_code == 404


def test_a_step_of_another_flow_is_a_404_in_the_panel(owner_client, phone, other_workspace):
    other = services.phone_number_create(
        workspace=other_workspace,
        number="+15555550177",
        display_name="Theirs",
        user=MembershipFactory(workspace=other_workspace, role=Role.OWNER).user,
    )
    assert owner_client.get(_panel(phone, sona_of(other), query=False)).status_code == 404


def test_saving_from_the_panel_keeps_it_open(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    url = reverse("callflows:step_edit", args=[phone.pk, greeting.pk])
    data = {"from": "editor", "name": "Welcome", "message": "Thanks for calling."}
    response = owner_client.post(url, data)
    assert response.status_code == 302 and response.url == _panel(phone, greeting)
    greeting.refresh_from_db()
    assert greeting.name == "Welcome" and greeting.settings["message"] == "Thanks for calling."


def test_a_refused_save_from_the_panel_shows_the_editor_with_the_errors(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    before = dict(greeting.settings)
    url = reverse("callflows:step_edit", args=[phone.pk, greeting.pk])
    response = owner_client.post(url, {"from": "editor", "name": "", "message": "Changed"})
    assert response.status_code == 200
    text = response.text
    assert "<svg" in text and 'id="step-panel"' in text  # the editor, not the step's own page
    panel = text[text.index('<section id="step-panel"') :]
    assert 'class="errors' in panel and 'data-guard-unsaved="dirty"' in panel
    assert ">\nChanged</textarea>" in panel  # what was typed is kept
    greeting.refresh_from_db()
    assert greeting.name == "Hello" and greeting.settings == before


def test_a_member_sees_the_panel_read_only(member_client, phone):
    text = member_client.get(_panel(phone, sona_of(phone), query=False)).text
    panel = text[
        text.index('<section id="step-panel"') : text.index('aria-labelledby="steps-heading"')
    ]
    assert "Step “Sona”" in panel and "Edit step" not in panel
    assert "disabled" in panel and ">Save</button>" not in panel


def test_the_panel_adds_a_constant_number_of_queries(
    owner_client, owner, phone, workspace, django_assert_max_num_queries
):
    sona = sona_of(phone)
    attach(sona, [JobFactory(workspace=workspace) for _ in range(8)], owner)
    for n in range(6):
        services.step_add(
            call_flow=phone.call_flow, kind=StepKind.GREETING, name=f"G{n}", user=owner
        )
    with django_assert_max_num_queries(20):
        assert owner_client.get(_panel(phone, sona, query=False)).status_code == 200


def test_sona_box_names_its_jobs_and_knowledge_in_order(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    attach(sona, [JobFactory(workspace=workspace, name=n) for n in ("Book", "Refund")], owner)
    page = KnowledgePageFactory(workspace=workspace, title="Opening hours")
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    text = owner_client.get(phone.get_absolute_url()).text
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert ">2 / 10 jobs: Book, Refund</text>" in svg
    assert "Jobs: Book, Refund. Knowledge: Opening hours</title>" in svg
    assert "jobs: Book, Refund; knowledge: Opening hours" in svg  # the diagram's description


@pytest.mark.parametrize(
    ("name", "tab"),
    [
        ("callflows:step_edit", "Settings"),
        ("callflows:step_jobs", "Jobs"),
        ("callflows:step_knowledge", "Knowledge"),
        ("calls:test_sona", "Test Sona"),
        ("calls:tests", "Tests"),
    ],
)
def test_a_sona_steps_pages_are_tabs(owner_client, phone, name, tab):
    sona = sona_of(phone)
    text = owner_client.get(reverse(name, args=[phone.pk, sona.pk])).text
    nav = text.split('<nav class="tabs step-tabs" aria-label="Pages of the step “Sona”">', 1)[1]
    nav = nav.split("</nav>", 1)[0]
    for other in ("Settings", "Jobs", "Knowledge", "Test Sona", "Tests"):
        assert f">{other}</a>" in nav
    assert nav.count('aria-current="page"') == 1
    assert f' aria-current="page">{tab}</a>' in nav
    assert f'<a href="{_panel(phone, sona)}"' in nav  # Settings: beside the diagram


def test_other_steps_have_only_a_settings_tab(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    text = owner_client.get(reverse("callflows:step_edit", args=[phone.pk, greeting.pk])).text
    nav = text.split('class="tabs step-tabs"', 1)[1].split("</nav>", 1)[0]
    assert ' aria-current="page">Settings</a>' in nav and ">Jobs</a>" not in nav
