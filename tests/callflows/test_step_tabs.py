"""The call flow editor as the place to work (issue 12, point 3, first part): diagram boxes
open their step, the Sona box names its jobs and knowledge, and a step's pages are tabs."""

import pytest
from django.urls import reverse

from callflows import services
from callflows.models import StepKind
from tests.conftest import attach, sona_of
from tests.factories import JobFactory, KnowledgePageFactory

pytestmark = pytest.mark.django_db


def test_diagram_boxes_link_to_their_step_settings(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello <b>", user=owner
    )
    text = owner_client.get(phone.get_absolute_url()).text
    svg = text[text.index("<svg") : text.index("</svg>")]
    for step in (sona_of(phone), greeting):
        href = reverse("callflows:step_edit", args=[phone.pk, step.pk])
        assert f'<a href="{href}" class="cf-box-link">' in svg
    assert "Hello &lt;b&gt;" in svg and "Hello <b>" not in svg


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


def test_other_steps_have_only_a_settings_tab(owner_client, owner, phone):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    text = owner_client.get(reverse("callflows:step_edit", args=[phone.pk, greeting.pk])).text
    nav = text.split('class="tabs step-tabs"', 1)[1].split("</nav>", 1)[0]
    assert ' aria-current="page">Settings</a>' in nav and ">Jobs</a>" not in nav
