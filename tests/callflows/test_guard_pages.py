"""Guard rails in the pages: the leave prompt's markers, copy buttons, kind-specific fields.
The behaviour in a browser is tested in tests/e2e/test_guards.py."""

import pytest
from django.urls import reverse

from callflows.models import StepKind
from callflows.services import step_add
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_base_loads_guards_js_as_a_file(owner_client):
    text = owner_client.get(reverse("jobs:list")).text
    assert '<script src="/static/js/guards.js" defer></script>' in text


def test_editors_are_guarded_against_leaving_with_unsaved_changes(
    owner_client, workspace, owner, phone
):
    job = JobFactory(workspace=workspace)
    hours = step_add(
        call_flow=phone.call_flow, kind=StepKind.BUSINESS_HOURS, name="Hours", user=owner
    )
    for url in (
        reverse("jobs:create"),
        reverse("jobs:edit", args=[job.pk]),
        reverse("knowledge:create"),
        reverse("callflows:step_edit", args=[phone.pk, hours.pk]),
    ):
        assert 'data-guard-unsaved=""' in owner_client.get(url).text, url


def test_a_form_shown_again_with_errors_counts_as_unsaved(owner_client, workspace):
    job = JobFactory(workspace=workspace)
    response = owner_client.post(
        reverse("jobs:edit", args=[job.pk]),
        {
            "name": "",
            "description": "",
            "trigger": "",
            "instructions": "x",
            "revision": job.revision,
        },
    )
    assert response.status_code == 200
    assert 'data-guard-unsaved="dirty"' in response.text


def test_read_only_step_page_has_no_leave_prompt(member_client, phone):
    sona = phone.call_flow.steps.get(kind=StepKind.SONA)
    text = member_client.get(reverse("callflows:step_edit", args=[phone.pk, sona.pk])).text
    assert "data-guard-unsaved" not in text


def test_new_token_has_a_copy_button(owner_client):
    response = owner_client.post(reverse("workspaces:tokens"), {"name": "Runtime"})
    raw = response.context["created"].raw
    assert (
        f'<button type="button" data-copy="{raw}" aria-label="Copy token" hidden>Copy</button>'
        '<span class="copy-status" role="status"></span>'
    ) in response.text
    assert response.text.count('aria-label="Copy token"') == 1
    again = owner_client.get(reverse("workspaces:tokens")).text
    assert raw not in again and 'aria-label="Copy token"' not in again  # shown once only


def test_tokens_page_offers_the_live_api_url(owner_client, phone):
    text = owner_client.get(reverse("workspaces:tokens")).text
    live = "http://testserver/api/v1/numbers/{number}/live"
    assert '<label for="live-api-url">Live API URL</label>' in text
    assert f'data-copy="{live}" aria-label="Copy live API URL" hidden>Copy</button>' in text
    # and each number's own URL, with a copy button named after the number
    own = f"http://testserver/api/v1/numbers/{phone.number}/live"
    assert f'<code id="live-url-{phone.pk}">{own}</code>' in text
    label = phone.display_name or phone.number
    assert f'data-copy="{own}" aria-label="Copy the live API URL of {label}"' in text


@pytest.mark.parametrize("who", ["owner", "member"])
def test_number_page_has_no_developer_words(client, who, owner, member, phone):
    """The live API URL moved to the API tokens page: owners' pages speak the owners' words."""
    client.force_login(owner if who == "owner" else member)
    text = client.get(phone.get_absolute_url()).text
    assert "Live API URL" not in text and "/api/v1/" not in text


def test_forward_to_is_only_for_forward_steps(owner_client, phone):
    text = owner_client.get(phone.get_absolute_url()).text
    block = text.split('<div data-show-for="add_kind" data-show-values="forward">', 1)[1]
    assert block.split("</div>", 1)[0].strip().startswith('<div class="field')
    assert '<label for="add_forward_to">Forward to</label>' in block
    # The kind select comes first, and the step name is not inside the forward-only block.
    assert text.index('id="add_kind"') < text.index('id="add_name"') < text.index("data-show-for")
