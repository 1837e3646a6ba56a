"""POST /api/v1/numbers/<e164>/route: the router asked by the telephony runtime, against the
live version, with the token, number and throttle rules of /live."""

import json

import pytest
from django.urls import reverse

from callflows import services as cf
from callflows.models import StepJob, StepKind
from calls import services
from calls.models import Scenario
from jobs.models import Job
from tests.factories import JobFactory, WorkspaceFactory, owner_of
from workspaces.services import api_token_create, api_token_revoke

from .conftest import SAYS, router_says, save_case

pytestmark = pytest.mark.django_db

KEYS = {
    "decision",
    "job",
    "confidence",
    "options",
    "question",
    "runner_up",
    "ambiguous",
    "no_job",
    "continued",
    "actions",
    "why",
    "step",
    "version",
    "backend",
    "notice",
}


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def ask(client, number, token, body=None, *, raw=None, **headers):
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return client.post(
        reverse("calls_api:route", args=[number]),
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def shown(match):
    """A router Match as the answer shows it."""
    return None if match is None else {"id": match.id, "name": match.name, "score": match.score}


def test_the_answer_names_the_job_runner_up_actions_and_why(client, published, token):
    line = published
    response = ask(client, line.phone.number, token, {"said": SAYS["hours"]})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == KEYS
    said = router_says(line.flow, SAYS["hours"], version="live")
    assert data["job"] == {"id": line.hours.pk, "name": "Opening hours", "score": said.job.score}
    assert set(data["runner_up"]) == {"id", "name", "score"}
    assert data["runner_up"]["id"] == said.runner_up.id != line.hours.pk
    assert 0 < data["runner_up"]["score"] < data["job"]["score"] <= 1
    assert data["ambiguous"] is False and data["no_job"] is False and data["continued"] is False
    assert (data["decision"], data["options"], data["question"]) == ("job", [], "")
    assert data["confidence"] == said.confidence and data["confidence"] in {"Sure", "Likely"}
    assert data["actions"] == [
        {"type": "send_sms", "message": "We are open 9 to 5 every day.", "say": None}
    ]
    assert data["why"] == list(said.job.why)
    assert any("open" in reason for reason in data["why"])  # the caller's word, in words
    assert data["step"] == {"key": line.sona.key, "name": "Sona"}
    assert (data["version"], data["backend"], data["notice"]) == (1, "builtin", "")


def test_a_transfer_is_served_parsed(client, published, token):
    data = ask(client, published.phone.number, token, {"said": SAYS["manager"]}).json()
    assert data["job"]["name"] == "Complaint"
    assert data["actions"] == [
        {
            "type": "transfer_call",
            "to": "number",
            "number": "+15555550124",
            "say": "Let me put you through to the desk.",
        }
    ]


def test_null_step_history_and_current_job_are_left_out(client, published, token):
    body = {"said": SAYS["hours"], "step": None, "history": None, "current_job": None}
    data = ask(client, published.phone.number, token, body).json()
    assert data["job"]["name"] == "Opening hours" and data["step"]["name"] == "Sona"


def test_no_job(client, published, token):
    data = ask(client, published.phone.number, token, {"said": SAYS["nothing"]}).json()
    assert (data["job"], data["no_job"], data["actions"], data["why"]) == (None, True, [], [])
    assert (data["decision"], data["confidence"], data["options"], data["question"]) == (
        "none",
        None,
        [],
        "",
    )
    assert data["ambiguous"] is False


def test_the_current_job_is_kept_on_a_vague_turn(client, published, token):
    line = published
    body = {"said": "yes please", "history": [SAYS["hours"]], "current_job": line.hours.pk}
    data = ask(client, line.phone.number, token, body).json()
    assert data["job"]["id"] == line.hours.pk and data["continued"] is True


def test_the_step_key_selects_a_step(client, published, token):
    line = published
    later = cf.step_add(call_flow=line.flow, kind=StepKind.SONA, name="Later", user=line.owner)
    cf.step_attach_job(step=later, job=line.booking, user=line.owner)
    cf.callflow_publish(call_flow=line.flow, user=line.owner)
    # Later has only Book a table: Opening hours (on Sona) is not a candidate there.
    data = ask(client, line.phone.number, token, {"said": SAYS["hours"], "step": later.key}).json()
    said = router_says(line.flow, SAYS["hours"], version="live", step_key=later.key)
    assert data["step"] == {"key": later.key, "name": "Later"} and data["version"] == 2
    assert [m.id for m in said.ranking] == [line.booking.pk]
    assert data["job"] == shown(said.job)
    assert data["runner_up"] == shown(said.runner_up)
    data = ask(client, line.phone.number, token, {"said": SAYS["booking"], "step": later.key})
    assert data.json()["job"]["id"] == line.booking.pk
    data = ask(client, line.phone.number, token, {"said": SAYS["off_topic"], "step": later.key})
    assert (data.json()["job"], data.json()["no_job"]) == (None, True)
    response = ask(client, line.phone.number, token, {"said": "hi", "step": "nope"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request.", "fields": {"step": "Unknown step."}}


def test_a_live_version_without_sona_step(client, line, token):
    cf.step_remove(step=line.sona, user=line.owner)
    cf.step_add(call_flow=line.flow, kind=StepKind.VOICEMAIL, name="VM", user=line.owner)
    cf.callflow_publish(call_flow=line.flow, user=line.owner)
    response = ask(client, line.phone.number, token, {"said": "hi"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"step": "The live version has no Sona step."}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"said": "Required: what the caller said, as text."}),
        ({"said": ""}, {"said": "Required: what the caller said, as text."}),
        ({"said": "   "}, {"said": "Required: what the caller said, as text."}),
        ({"said": 42}, {"said": "Required: what the caller said, as text."}),
        ({"said": ["hi"]}, {"said": "Required: what the caller said, as text."}),
        ({"said": "x" * 501}, {"said": "At most 500 characters (it has 501)."}),
        (
            {"said": "hi", "step": 7},
            {"step": "A Sona step's key (text, at most 12 characters), or leave it out."},
        ),
        (
            {"said": "hi", "step": "x" * 13},
            {"step": "A Sona step's key (text, at most 12 characters), or leave it out."},
        ),
        (
            {"said": "hi", "history": "earlier"},
            {"history": "A list of at most 50 earlier caller turns."},
        ),
        ({"said": "hi", "history": {}}, {"history": "A list of at most 50 earlier caller turns."}),
        ({"said": "hi", "history": ""}, {"history": "A list of at most 50 earlier caller turns."}),
        (
            {"said": "hi", "step": 0},
            {"step": "A Sona step's key (text, at most 12 characters), or leave it out."},
        ),
        (
            {"said": "hi", "history": ["a"] * 51},
            {"history": "A list of at most 50 earlier caller turns."},
        ),
        (
            {"said": "hi", "history": ["fine", ""]},
            {"history[1]": "Required: what the caller said, as text."},
        ),
        (
            {"said": "hi", "current_job": "7"},
            {"current_job": "The id of the job chosen on an earlier turn, or null."},
        ),
        (
            {"said": "hi", "current_job": True},
            {"current_job": "The id of the job chosen on an earlier turn, or null."},
        ),
        (
            {"said": "", "history": [1]},
            {
                "said": "Required: what the caller said, as text.",
                "history[0]": "Required: what the caller said, as text.",
            },
        ),
    ],
)
def test_bad_requests_are_400_with_field_errors(client, published, token, body, fields):
    response = ask(client, published.phone.number, token, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request.", "fields": fields}


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"said"', "", "\xff"])
def test_a_body_that_is_no_json_object_is_400(client, published, token, raw):
    response = ask(client, published.phone.number, token, raw=raw)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid request.",
        "fields": {"body": "Send a JSON object."},
    }


def test_get_is_405(client, published, token):
    url = reverse("calls_api:route", args=[published.phone.number])
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


def test_bad_and_revoked_tokens_are_401(client, published, workspace, owner):
    new = api_token_create(workspace=workspace, name="x", user=owner)
    assert ask(client, published.phone.number, new.raw, {"said": "hi"}).status_code == 200
    api_token_revoke(token=new.token, user=owner)
    for bad in (new.raw, "", "pb_wrong", "nope"):
        response = ask(client, published.phone.number, bad, {"said": "hi"})
        assert response.status_code == 401
        assert response.json() == {"error": "Missing, unknown or revoked API token."}
    url = reverse("calls_api:route", args=[published.phone.number])
    assert client.post(url, data="{}", content_type="application/json").status_code == 401


def test_unknown_foreign_and_unpublished_numbers_are_404(client, line, token):
    unknown = {"error": "Unknown phone number."}
    assert ask(client, "+19999999999", token, {"said": "hi"}).json() == unknown
    assert ask(client, "nonsense", token, {"said": "hi"}).json() == unknown
    response = ask(client, line.phone.number, token, {"said": "hi"})
    assert response.status_code == 404
    assert response.json() == {"error": "This phone number has no published call flow yet."}
    theirs_ws = WorkspaceFactory()
    theirs = cf.phone_number_create(
        workspace=theirs_ws, number="+15555550177", display_name="X", user=owner_of(theirs_ws)
    )
    cf.callflow_publish(call_flow=theirs.call_flow, user=owner_of(theirs_ws))
    response = ask(client, theirs.number, token, {"said": "hi"})
    assert (response.status_code, response.json()) == (404, unknown)


def test_bad_tokens_are_throttled_like_live(client, published, settings, token):
    settings.API_BAD_TOKEN_LIMIT = 3
    codes = [
        ask(client, published.phone.number, f"pb_guess{i}", {"said": "hi"}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    response = ask(client, published.phone.number, "pb_guess", {"said": "hi"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["error"].startswith("Too many requests with a bad API token")
    # A good token from the same source is served all the same.
    assert ask(client, published.phone.number, token, {"said": "hi"}).status_code == 200


def test_it_routes_against_the_live_version_not_the_draft(client, published, token):
    line = published
    cf.step_detach_job(step=line.sona, job=line.hours, user=line.owner)
    extra = JobFactory(
        workspace=line.workspace, name="Gift cards", trigger="Caller wants a gift card"
    )
    cf.step_attach_job(step=line.sona, job=extra, user=line.owner)  # the draft only
    said = {"said": "Can I buy a gift card"}
    assert ask(client, line.phone.number, token, said).json()["job"] is None
    assert ask(client, line.phone.number, token, {"said": SAYS["hours"]}).json()["job"]["id"] == (
        line.hours.pk
    )
    cf.callflow_publish(call_flow=line.flow, user=line.owner)
    assert ask(client, line.phone.number, token, said).json()["job"]["id"] == extra.pk
    # Opening hours left with version 2: whatever the router picks now, it is not that job.
    data = ask(client, line.phone.number, token, {"said": SAYS["hours"]}).json()
    assert line.hours.pk not in {(data[k] or {}).get("id") for k in ("job", "runner_up")}
    assert data["job"] == shown(router_says(line.flow, SAYS["hours"], version="live").job)


def test_saved_cases_are_examples_and_change_the_next_answer(client, published, token):
    line = published
    said = {"said": "my steak was cold"}
    assert ask(client, line.phone.number, token, said).json()["job"] is None  # indexed now
    case = save_case(
        call_flow=line.flow,
        user=line.owner,
        step_key=line.sona.key,
        said="My steak was cold",
        job=line.manager,
    )
    data = ask(client, line.phone.number, token, said).json()
    assert data["job"]["id"] == line.manager.pk and data["version"] == 1  # no publish needed
    services.scenario_delete(scenario=case, user=line.owner)
    assert ask(client, line.phone.number, token, said).json()["job"] is None


def test_a_job_edit_reaches_the_router_at_once(client, published, token):
    from jobs import services as js

    line = published
    said = {"said": "do you sell vouchers"}
    assert ask(client, line.phone.number, token, said).json()["job"] is None
    js.job_update(job=line.hours, user=line.owner, data={"description": "Also sells vouchers."})
    assert ask(client, line.phone.number, token, said).json()["job"]["id"] == line.hours.pk


# Queries ------------------------------------------------------------------------------------


FRUIT = [
    "apples",
    "bananas",
    "cherries",
    "dates",
    "figs",
    "grapes",
    "kiwis",
    "lemons",
    "limes",
    "mangos",
]


def _big(line, steps: int):
    """`steps` more Sona steps with 10 jobs each, and a test case per job, published."""
    workspace, owner = line.workspace, line.owner
    Job.objects.bulk_create(
        Job(
            workspace=workspace,
            name=f"Extra {i}",
            trigger=f"Caller wants {FRUIT[i]}",
            instructions="1. Help.",
        )
        for i in range(10)
    )
    jobs = list(workspace.jobs.filter(name__startswith="Extra").order_by("pk"))
    for i in range(steps):
        step = cf.step_add(call_flow=line.flow, kind=StepKind.SONA, name=f"S{i}", user=owner)
        StepJob.objects.bulk_create(
            StepJob(step=step, job=job, position=p) for p, job in enumerate(jobs, 1)
        )
        Scenario.objects.bulk_create(
            Scenario(
                call_flow=line.flow,
                step_key=step.key,
                name=f"I want {FRUIT[p]}",
                turns=[f"I want {FRUIT[p]}"],
                expect={"job": job.name},
            )
            for p, job in enumerate(jobs)
        )


@pytest.mark.parametrize("steps", [0, 15])
@pytest.mark.usefixtures("long_lease")
def test_query_counts_cold_small_warm_none(
    client, line, token, steps, django_assert_max_num_queries, django_assert_num_queries
):
    from calls import runtime

    _big(line, steps)
    cf.callflow_publish(call_flow=line.flow, user=line.owner)
    runtime._indexes.clear()
    with django_assert_max_num_queries(5):  # lookup, the live body (2), test cases, vectors
        assert ask(client, line.phone.number, token, {"said": SAYS["hours"]}).status_code == 200
    with django_assert_num_queries(0):  # warm: the lookup is leased (live.FRESH_SECONDS)
        response = ask(client, line.phone.number, token, {"said": "I want dates"})
    if steps:
        key = line.flow.steps.get(name="S9").key
        with django_assert_num_queries(0):
            data = ask(
                client, line.phone.number, token, {"said": "I want dates", "step": key}
            ).json()
        assert data["job"]["name"] == "Extra 3"
    assert response.status_code == 200
