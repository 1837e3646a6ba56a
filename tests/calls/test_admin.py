"""The admin: calls are read-only records; a scenario is deleted through the service, as the
support staff user (staff_support), never added or changed there."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from calls import services
from calls.models import Scenario, Source
from tests.conftest import messages_of
from tests.factories import CallFactory, PhoneNumberFactory
from workspaces.models import AuditEvent

from .conftest import SAYS, save_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(line):
    return save_case(
        call_flow=line.flow,
        user=line.owner,
        step_key=line.sona.key,
        said=SAYS["booking"],
        job=line.booking,
    )


def test_call_pages_answer_and_list_search_filter(staff_client, line):
    mock = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    reported = CallFactory(
        phone_number=line.phone,
        source=Source.LIVE,
        external_id="rt-123",
        caller="+15555550188",
        job_name="Complaint",
        outcome="transferred",
    )
    url = reverse("admin:calls_call_changelist")
    page = staff_client.get(url).content.decode()
    assert "Opening hours" in page and "Complaint" in page and "+15555550123" in page
    for query, found, missing in [
        ({"q": "rt-123"}, "Complaint", "Opening hours"),
        ({"q": "+15555550188"}, "Complaint", "Opening hours"),
        ({"outcome__exact": "sms_sent"}, "Opening hours", "Complaint"),
        ({"source__exact": "live"}, "Complaint", "Opening hours"),
    ]:
        content = staff_client.get(url, query).content.decode()
        assert found in content and f">{missing}<" not in content, query
    for call in (mock, reported):
        response = staff_client.get(reverse("admin:calls_call_change", args=[call.pk]))
        assert response.status_code == 200


def test_calls_are_read_only(staff_client, line):
    call = CallFactory(phone_number=line.phone, summary="As reported.")
    assert staff_client.get(reverse("admin:calls_call_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:calls_call_change", args=[call.pk]), {"summary": "Rewritten."}
    )
    assert response.status_code == 403
    response = staff_client.post(
        reverse("admin:calls_call_delete", args=[call.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.summary == "As reported."


def test_test_case_pages_answer_and_search(staff_client, line, case):
    url = reverse("admin:calls_scenario_changelist")
    assert "I want to book a table for two" in staff_client.get(url).content.decode()
    assert "I want to book" in staff_client.get(url, {"q": "table for two"}).content.decode()
    assert "I want to book" not in staff_client.get(url, {"q": "zebra"}).content.decode()
    assert "I want to book" in staff_client.get(url, {"q": "+15555550123"}).content.decode()
    change = staff_client.get(reverse("admin:calls_scenario_change", args=[case.pk]))
    assert change.status_code == 200


def test_test_cases_are_not_added_or_changed_in_the_admin(staff_client, line, case):
    assert staff_client.get(reverse("admin:calls_scenario_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:calls_scenario_change", args=[case.pk]), {"name": "Something else"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.name == "I want to book a table for two"


def test_staff_delete_a_case_through_the_service(staff_client, staff, line, case):
    line.phone.refresh_from_db()
    generation = line.phone.live_generation
    response = staff_client.post(
        reverse("admin:calls_scenario_delete", args=[case.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Scenario.objects.exists()
    event = AuditEvent.objects.get(action="scenario.deleted")
    assert (event.actor, event.via_support, event.workspace) == (staff, True, line.workspace)
    line.phone.refresh_from_db()
    assert line.phone.live_generation == generation + 1  # the router's examples changed


def test_staff_delete_selected_cases_through_the_service(staff_client, staff, line, case):
    other = save_case(
        call_flow=line.flow,
        user=line.owner,
        step_key=line.sona.key,
        said=SAYS["hours"],
        job=line.hours,
    )
    response = staff_client.post(
        reverse("admin:calls_scenario_changelist"),
        {"action": "delete_selected", "_selected_action": [case.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302, messages_of(response)
    assert not Scenario.objects.exists()
    events = AuditEvent.objects.filter(action="scenario.deleted")
    assert [e.via_support for e in events] == [True, True]


def test_the_delete_confirmation_page_answers(staff_client, line, case):
    response = staff_client.get(reverse("admin:calls_scenario_delete", args=[case.pk]))
    assert (
        response.status_code == 200
        and "I want to book a table for two" in response.content.decode()
    )
    assert Scenario.objects.filter(pk=case.pk).exists()


def _admin_list(staff_client, django_assert_max_num_queries, query):
    url = reverse("admin:calls_call_changelist")
    with django_assert_max_num_queries(12):
        response = staff_client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("size", [3, 60])
def test_call_list_filters_by_workspace_and_caller_in_constant_queries(
    staff_client, line, other_workspace, size, django_assert_max_num_queries
):
    day = datetime(2026, 3, 9, 10, tzinfo=UTC)
    theirs = PhoneNumberFactory(workspace=other_workspace)
    for i in range(size):
        CallFactory(phone_number=line.phone, started_at=day + timedelta(minutes=i))
        CallFactory(phone_number=theirs, started_at=day - timedelta(days=40), caller="+15550001")
    page = _admin_list(staff_client, django_assert_max_num_queries, {})
    assert "started_at__year" not in page  # no date drill-down (a DISTINCT over every call)
    assert f"workspace__id__exact={other_workspace.pk}" in page  # the workspace filter
    mine = _admin_list(
        staff_client,
        django_assert_max_num_queries,
        {"workspace__id__exact": line.phone.workspace_id},
    )
    assert "+15550001" not in mine and line.phone.number in mine
    by_caller = _admin_list(staff_client, django_assert_max_num_queries, {"q": "+15550001"})
    assert "+15550001" in by_caller and line.phone.number not in by_caller
    assert "+15550001" not in _admin_list(
        staff_client, django_assert_max_num_queries, {"q": "5550001"}
    )  # exact, never a substring


def test_a_filtered_call_list_is_never_counted_exactly_when_large(staff_client, line, monkeypatch):
    """At a million calls an exact COUNT of a filter (outcome=failed) took 300+ ms: above 1,000
    rows the admin shows the planner's estimate (PostgreSQL), small results stay exact."""
    from core.paginators import SearchEstimatePaginator

    CallFactory.create_batch(2, phone_number=line.phone, outcome="failed")
    url = reverse("admin:calls_call_changelist")
    response = staff_client.get(url, {"outcome__exact": "failed"})
    assert isinstance(response.context["cl"].paginator, SearchEstimatePaginator)
    assert response.context["cl"].result_count == 2  # small: exact
    if connection.vendor == "postgresql":
        monkeypatch.setattr(SearchEstimatePaginator, "_estimate", lambda *a: 125_000)
        response = staff_client.get(url, {"outcome__exact": "failed"})
        assert response.context["cl"].result_count == 125_000
