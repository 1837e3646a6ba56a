"""Publishing a version again first says what changes on the live line; only the confirming
POST publishes, and only while the live version is the one the page described."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from callflows import selectors, services, snapshots
from callflows.models import CallFlowVersion, StepKind
from tests.conftest import attach
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def url(phone, version):
    return reverse("callflows:rollback", args=[phone.pk, version.pk])


def set_greeting(step, user, greeting):
    settings = {"greeting": greeting, "use_history": True}  # as the step was made
    services.step_update(step=step, name=step.name, settings=settings, user=user)


def state(phone):
    """Everything a rollback could change."""
    phone.call_flow.refresh_from_db()
    return (
        CallFlowVersion.objects.count(),
        phone.call_flow.live_version_id,
        snapshots.build_snapshot(phone.call_flow),
    )


@pytest.fixture
def two_versions(workspace, owner, phone, sona):
    """Version 1: Sona with “Book a visit”. Version 2 (live): plus “Take a message”, another
    greeting and a Welcome step. The draft equals version 2."""
    book = JobFactory(workspace=workspace, name="Book a visit")
    message = JobFactory(workspace=workspace, name="Take a message")
    attach(sona, [book], owner)
    first = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    attach(sona, [message], owner)
    set_greeting(sona, owner, "Hi there, this is Sona.")
    services.step_add(call_flow=phone.call_flow, kind=StepKind.GREETING, name="Welcome", user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    return first


def test_confirmation_says_what_the_line_loses_and_what_happens_to_the_draft(
    owner_client, phone, two_versions
):
    response = owner_client.get(url(phone, two_versions))
    assert response.status_code == 200
    text = response.text
    assert (
        "Version 1 will become live on Main line (+1 555-555-0123): the greeting changes on "
        "“Sona”; “Sona” loses “Take a message”; step “Welcome” is removed."
    ) in text
    assert "Your draft has no unpublished changes, so it will follow version 1." in text
    assert '<input type="hidden" name="confirm" value="yes">' in text
    assert '<input type="hidden" name="live" value="2">' in text
    assert ">Confirm</button>" in text
    assert f'href="{reverse("callflows:versions", args=[phone.pk])}">Cancel</a>' in text


def test_confirmation_of_a_kept_draft_and_of_gained_jobs(workspace, owner, phone, sona):
    first = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    attach(sona, [JobFactory(workspace=workspace, name="Qualify a lead")], owner)
    services.step_update(step=sona, name="Front desk", settings={}, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_add(call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    phone.call_flow.refresh_from_db()
    preview = selectors.rollback_preview(call_flow=phone.call_flow, version=first)
    assert "step “Front desk” is renamed “Sona”" in preview.summary
    assert "“Sona” loses “Qualify a lead”" in preview.summary
    assert "the greeting and the use of the caller's history change on “Sona”" in preview.summary
    assert preview.draft == (
        "Your draft has unpublished changes: it is kept as it is, and will differ from the "
        "live version."
    )


def test_get_and_unconfirmed_posts_change_nothing(owner_client, phone, two_versions):
    before = state(phone)
    target = url(phone, two_versions)
    for data in (None, {}, {"live": "2"}, {"confirm": "no", "live": "2"}, {"confirm": "yes"}):
        response = owner_client.get(target) if data is None else owner_client.post(target, data)
        assert response.status_code == 200, data
        assert ">Confirm</button>" in response.text, data
    assert state(phone) == before


def test_confirming_post_publishes_once(owner_client, phone, two_versions):
    response = owner_client.post(url(phone, two_versions), {"confirm": "yes", "live": "2"})
    assert response.status_code == 302
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version.number == 3
    assert phone.call_flow.live_version.rolled_back_from == 1
    # The same confirmation again is stale now: version 3 is live, not 2.
    again = owner_client.post(url(phone, two_versions), {"confirm": "yes", "live": "2"})
    assert again.status_code == 302
    assert CallFlowVersion.objects.count() == 3


def test_confirmation_is_refused_when_another_version_went_live_since(
    owner_client, owner, phone, sona, two_versions
):
    target = url(phone, two_versions)
    assert '<input type="hidden" name="live" value="2">' in owner_client.get(target).text
    set_greeting(sona, owner, "Someone else published this meanwhile.")
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    before = state(phone)
    response = owner_client.post(target, {"confirm": "yes", "live": "2"}, follow=True)
    assert (
        "Version 3 went live since you reviewed this change. Nothing was published: review "
        "what would change again."
    ) in response.text
    # Back on the confirmation, described against the new live version.
    assert '<input type="hidden" name="live" value="3">' in response.text
    assert state(phone) == before


def test_service_refuses_a_stale_confirmation(owner, phone, two_versions):
    before = state(phone)
    with pytest.raises(ValidationError, match="Version 2 went live since you reviewed"):
        services.callflow_rollback(
            call_flow=phone.call_flow, version=two_versions, user=owner, expected_live_number=1
        )
    assert state(phone) == before


def test_already_live_version_shows_the_refusal_without_a_confirm_button(owner_client, phone):
    version = services.callflow_publish(
        call_flow=phone.call_flow, user=phone.workspace.memberships.get().user
    )
    response = owner_client.get(url(phone, version))
    assert "Version 1 is already live." in response.text
    assert ">Confirm</button>" not in response.text


def test_member_sees_no_confirmation(member_client, phone, two_versions):
    assert member_client.get(url(phone, two_versions)).status_code == 403


def test_versions_page_button_opens_the_confirmation(owner_client, phone, two_versions):
    text = owner_client.get(reverse("callflows:versions", args=[phone.pk])).text
    assert f'<form method="get" action="{url(phone, two_versions)}"' in text
    assert ">Publish this version again</button>" in text


def test_preview_queries_are_constant(
    django_assert_max_num_queries, owner, phone, sona, two_versions
):
    flow = (
        type(phone.call_flow)
        .objects.select_related("phone_number", "live_version")
        .get(pk=phone.call_flow.pk)
    )
    with django_assert_max_num_queries(4):
        selectors.rollback_preview(call_flow=flow, version=two_versions)
