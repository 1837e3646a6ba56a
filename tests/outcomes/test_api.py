"""GET /api/v1/outcomes (issue 23, point 5): the pages' figures, scoped to the token's
workspace, with clear refusals."""

from datetime import timedelta

import pytest

from calls.models import Outcome
from jobs import services as js
from outcomes import selectors
from tests.calls.test_calls_api import TEXTS
from tests.factories import JobFactory, PhoneNumberFactory
from tests.outcomes.test_selectors import NOW, add_calls, history_ids
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/outcomes"


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, name="figures", user=owner).raw


def get(client, token, **params):
    params = {k.rstrip("_"): v for k, v in params.items()}
    return client.get(URL, params, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def job(workspace, owner, phone):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    add_calls(phone, {"resolved": 153, "failed": 59}, job=job, history_id=history_ids(job)[0])
    return job


def test_a_jobs_figures_with_their_intervals(client, token, job, phone, workspace):
    response = get(client, token, job=job.pk)
    assert response.status_code == 200
    data = response.json()
    start, end = selectors.default_range(workspace)
    assert (data["from"], data["to"]) == (start.isoformat(), end.isoformat())
    assert data["calls"] == 212 and data["too_few_calls"] is False
    assert data["job"] == job.pk and data["number"] is None and data["step"] is None
    assert list(data["outcomes"]) == list(Outcome.values)
    # 153/212, Wilson 95%: .6578 to .7777 (tests/outcomes/test_selectors.py)
    assert data["outcomes"]["resolved"] == {
        "count": 153,
        "share": 0.7217,
        "low": 0.6578,
        "high": 0.7777,
    }
    assert data["outcomes"]["transferred"]["count"] == 0
    assert data["outcomes"]["transferred"]["share"] == 0.0
    by_number = get(client, token, number=phone.number).json()
    assert by_number["calls"] == 212 and by_number["number"] == phone.number
    assert get(client, token, number=str(phone.pk)).json()["calls"] == 212


def test_under_thirty_calls_no_shares(client, token, workspace, owner, phone):
    job = JobFactory(workspace=workspace)
    add_calls(phone, {"resolved": 29}, job=job)
    data = get(client, token, job=job.pk).json()
    assert data["calls"] == 29 and data["too_few_calls"] is True
    assert data["outcomes"]["resolved"] == {"count": 29, "share": None, "low": None, "high": None}


def test_the_range_is_inclusive_and_in_the_workspace_zone(client, token, job, phone, workspace):
    add_calls(phone, {"transferred": 7}, started_at=NOW - timedelta(days=40))
    today = selectors.default_range(workspace)[1]
    old = (today - timedelta(days=40)).isoformat()
    assert get(client, token, from_=old, to=old).json()["calls"] == 7
    assert get(client, token, from_=old).json()["calls"] == 219  # to: today
    assert get(client, token, to=old).json()["calls"] == 7  # from: 30 days before
    assert get(client, token).json()["calls"] == 212
    first = get(client, token, to="0001-01-02").json()  # no day before the first
    assert (first["from"], first["to"], first["calls"]) == ("0001-01-01", "0001-01-02", 0)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from_": "yesterday"}, {"from": "Not a date: write it as YYYY-MM-DD."}),
        ({"to": "2026-02-30"}, {"to": "Not a date: write it as YYYY-MM-DD."}),
        ({"from_": "2026-03-02", "to": "2026-03-01"}, {"to": "Is before from."}),
        (
            {"from_": "2000-01-01", "to": "2030-01-01"},
            {"to": "The range is longer than 3660 days."},
        ),
    ],
)
def test_bad_dates_are_refused(client, token, params, fields):
    response = get(client, token, **params)
    assert response.status_code == 400
    assert response.json() == {"error": response.json()["error"], "fields": fields}


def test_bad_parameters_are_refused(client, token):
    assert get(client, token, job="abc").status_code == 400
    assert get(client, token, number="555-0100").status_code == 400
    assert get(client, token, step="x" * 13).status_code == 400
    assert get(client, token, step="a\x00b").status_code == 400  # no NUL reaches the database
    assert get(client, token, job=2**63).status_code == 400
    misspelt = get(client, token, form="2026-01-01")
    assert misspelt.status_code == 400
    assert misspelt.json()["fields"] == {
        "form": "Unknown parameter: use number, step, job, from and to."
    }


def test_another_workspaces_number_or_job_is_unknown(client, token, other_workspace):
    theirs = PhoneNumberFactory(workspace=other_workspace)
    their_job = JobFactory(workspace=other_workspace)
    for params in ({"number": theirs.number}, {"number": str(theirs.pk)}, {"job": their_job.pk}):
        response = get(client, token, **params)
        assert response.status_code == 404 and "error" in response.json()


def test_a_token_is_needed(client):
    assert client.get(URL).status_code == 401
    assert client.post(URL, HTTP_AUTHORIZATION="Bearer pb_x").status_code == 405


def test_the_query_count_does_not_depend_on_the_calls(
    client, token, job, phone, django_assert_num_queries
):
    # token, workspace, number, rollup
    with django_assert_num_queries(4):
        assert get(client, token, number=phone.number).json()["calls"] == 212
