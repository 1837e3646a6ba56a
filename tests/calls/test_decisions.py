"""The router's three decisions (job, clarify, none) on every surface that shows them: the
runtime API, the mock call page, the mock_call command, stored mock calls, test cases and the
Tests page (mislabeled examples, Routing health), the publish preview.

Job and none are asserted with the built-in router on clear-cut sentences only (its thresholds
are being tuned: no score is pinned). A question (clarify) is hard to force with real scores,
so the `fake_router` fixture (tests/calls/fake_router.py) answers all three on cue."""

import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from calls import gates, routing, scenarios, services
from calls.api import NOT_ATTACHED, OPTIONS_WORDS
from calls.models import Call, Outcome, Scenario, Source
from calls.routing import Match, Overlap
from calls.selectors import mock
from workspaces.services import api_token_create

from .conftest import CLINIC_SAYS, save_case
from .fake_router import QUESTION

pytestmark = pytest.mark.django_db

CONFIDENCES = {"Sure", "Likely", "Unsure"}
ASK = "I want an appointment"  # the fake router asks which (book or change)
ANSWER = "the second one, I need to change it"  # ... and this settles it: Reschedule or cancel


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _case(clinic, said, job, **kwargs) -> Scenario:
    return save_case(
        call_flow=clinic.flow, user=clinic.owner, step_key=clinic.sona.key, said=said, job=job,
        **kwargs,
    )  # fmt: skip


# The runtime API ---------------------------------------------------------------------------


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def ask(client, clinic, token, body):
    return client.post(
        reverse("calls_api:route", args=[clinic.phone.number]),
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_api_job_with_the_builtin_router(client, clinic_live, token):
    data = ask(client, clinic_live, token, {"said": CLINIC_SAYS["change"]}).json()
    assert data["decision"] == "job" and data["job"]["name"] == "Reschedule or cancel"
    assert data["confidence"] in CONFIDENCES
    assert (data["options"], data["question"], data["ambiguous"], data["no_job"]) == (
        [],
        "",
        False,
        False,
    )


def test_api_none_with_the_builtin_router(client, clinic_live, token):
    data = ask(client, clinic_live, token, {"said": CLINIC_SAYS["none"]}).json()
    assert (data["decision"], data["job"], data["confidence"]) == ("none", None, None)
    assert (data["options"], data["question"], data["actions"], data["why"]) == ([], "", [], [])
    assert data["no_job"] is True and data["ambiguous"] is False


def test_api_clarify_then_the_answer_settles_it(client, clinic_live, token, fake_router):
    clinic = clinic_live
    data = ask(client, clinic, token, {"said": ASK}).json()
    assert data["decision"] == "clarify" and data["question"] == QUESTION
    assert [(o["id"], o["name"]) for o in data["options"]] == [
        (clinic.book.pk, "Book an appointment"),
        (clinic.change.pk, "Reschedule or cancel"),
    ]
    assert all(set(o) == {"id", "name", "score"} for o in data["options"])
    assert (data["job"], data["confidence"], data["actions"]) == (None, None, [])
    assert data["ambiguous"] is True and data["no_job"] is False  # deprecated: == clarify
    options = [o["id"] for o in data["options"]]
    body = {"said": ANSWER, "history": [ASK], "options": options}
    data = ask(client, clinic, token, body).json()
    assert (data["decision"], data["job"]["id"], data["confidence"]) == (
        "job",
        clinic.change.pk,
        "Likely",
    )
    assert data["ambiguous"] is False and data["options"] == []
    assert fake_router.CALLS[-1] == (ANSWER, tuple(options))  # the router got the options
    data = ask(client, clinic, token, {"said": "pizza please"}).json()
    assert (data["decision"], data["job"], data["runner_up"]["name"]) == (
        "none",
        None,
        "Book an appointment",
    )


@pytest.mark.parametrize(
    "options",
    [[], [1], [1, 2, 3], "1,2", {"a": 1}, [1, "2"], [True, 2], [1.5, 2], 7],
)
def test_api_options_must_be_two_different_ids(client, clinic_live, token, options):
    response = ask(client, clinic_live, token, {"said": "hi", "options": options})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request.", "fields": {"options": OPTIONS_WORDS}}


def test_api_options_must_be_attached_to_the_step(client, clinic_live, token):
    clinic = clinic_live
    same = [clinic.book.pk, clinic.book.pk]
    response = ask(client, clinic, token, {"said": "hi", "options": same})
    assert response.json()["fields"] == {"options": OPTIONS_WORDS}
    stranger = [clinic.book.pk, 10**9]
    response = ask(client, clinic, token, {"said": "hi", "options": stranger})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request.", "fields": {"options": NOT_ATTACHED}}
    both = [clinic.book.pk, clinic.change.pk]
    assert ask(client, clinic, token, {"said": "hi", "options": both}).status_code == 200
    assert ask(client, clinic, token, {"said": "hi", "options": None}).status_code == 200


def test_the_document_describes_the_decision():
    from calls import openapi

    schemas = openapi.document()["components"]["schemas"]
    answer = schemas["RouteAnswer"]["properties"]
    assert answer["decision"]["enum"] == ["job", "clarify", "none"]
    assert {"decision", "options", "question", "confidence"} <= set(
        schemas["RouteAnswer"]["required"]
    )
    assert answer["confidence"]["anyOf"][0]["enum"] == ["Sure", "Likely", "Unsure"]
    assert answer["ambiguous"]["deprecated"] is True
    assert answer["ambiguous"]["description"].startswith("Deprecated: use `decision`.")
    asked = schemas["RouteAsk"]["properties"]["options"]
    assert asked["anyOf"][0]["minItems"] == asked["anyOf"][0]["maxItems"] == 2


# The mock call page ------------------------------------------------------------------------


def mock_url(clinic, name="test"):
    return f"/numbers/{clinic.phone.pk}/steps/{clinic.sona.pk}/{name}/"


def test_mock_call_job_in_words_not_scores(owner_client, clinic):
    page = owner_client.post(mock_url(clinic), {"said": CLINIC_SAYS["change"]})
    body = text(page)
    found = re.search(r"Sona picked Reschedule or cancel (Sure|Likely|Unsure)", body)
    assert found, body
    assert "Runner-up: " in body and "score" not in body.lower()
    assert not re.search(r"\b0\.\d\d\b", body)  # no bare numbers for owners


def test_mock_call_none_says_what_sona_does_and_the_message_job(owner_client, clinic):
    body = text(owner_client.post(mock_url(clinic), {"said": CLINIC_SAYS["none"]}))
    assert (
        "No job fits: Sona says what the business can help with and offers to take a message "
        "(“Take a message”)."
    ) in body
    assert "score" not in body.lower()


def test_mock_call_none_without_a_message_job(owner_client, clinic):
    from callflows import services as cf

    cf.step_detach_job(step=clinic.sona, job=clinic.message, user=clinic.owner)
    body = text(owner_client.post(mock_url(clinic), {"said": CLINIC_SAYS["none"]}))
    assert "No job fits: Sona says what the business can help with." in body
    assert "take a message" not in body


def test_mock_call_clarify_then_the_next_turn_settles_it(owner_client, clinic, fake_router):
    page = owner_client.post(mock_url(clinic), {"said": ASK})
    body = text(page)
    assert (
        "Sona asks which job the caller means: “Book an appointment” or “Reschedule or "
        "cancel”. The caller's next answer settles it."
    ) in body
    assert f"Sona asks: “{QUESTION}”" in body
    html = page.content.decode()
    # Saving the turn as a test case asks which of the two it is for.
    assert 'name="job"' in html and f'<option value="{clinic.book.pk}">' in html
    assert f'<option value="{clinic.change.pk}">' in html
    page = owner_client.post(
        mock_url(clinic),
        {"turn": [ASK], "reply": [QUESTION], "said": ANSWER},
        HTTP_HX_REQUEST="true",
    )
    body = text(page)
    assert "Answers Sona's question: “Book an appointment” or “Reschedule or cancel”." in body
    assert "Sona picked Reschedule or cancel Likely" in body
    assert fake_router.CALLS[-1] == (ANSWER, (clinic.book.pk, clinic.change.pk))
    assert "Turn 2: Sona picked “Reschedule or cancel” (Likely)." in body  # the live region


def test_mock_call_announces_a_question(owner_client, clinic, fake_router):
    page = owner_client.post(mock_url(clinic), {"said": ASK}, HTTP_HX_REQUEST="true")
    assert (
        f"Turn 1: Sona asks “{QUESTION}” (“Book an appointment” or “Reschedule or cancel”)."
    ) in text(page)


def test_ending_on_a_question_stores_no_job(clinic, fake_router):
    call = services.mock_call_end(call_flow=clinic.flow, user=clinic.owner, turns=[ASK])
    assert (call.source, call.job, call.job_name, call.score) == (Source.MOCK, None, "", None)
    assert call.outcome == Outcome.CALLER_HUNG_UP
    assert f"Sona asks “{QUESTION}”" in call.summary and "no job handled it" in call.summary
    assert call.transcript == f"Caller: {ASK}\nSona [asks which]: {QUESTION}"


def test_an_answered_question_stores_the_job(clinic, fake_router):
    call = services.mock_call_end(call_flow=clinic.flow, user=clinic.owner, turns=[ASK, ANSWER])
    assert (call.job, call.outcome) == (clinic.change, Outcome.RESOLVED)
    assert "Sona picked “Reschedule or cancel” (Likely)." in call.summary
    assert "Sona [Reschedule or cancel, Likely]: Could you tell me the name on the booking?" in (
        call.transcript
    )


def test_no_job_is_stored_as_no_job_matched(clinic):
    call = services.mock_call_end(
        call_flow=clinic.flow, user=clinic.owner, turns=[CLINIC_SAYS["none"]]
    )
    assert (call.job, call.outcome, call.score) == (None, Outcome.NO_JOB_MATCHED, None)
    assert "No job fits: Sona says what the business can help with and offers to take a " in (
        call.summary
    )
    assert "score" not in call.summary


# The mock_call command ---------------------------------------------------------------------


def command(clinic, *argv, capsys) -> str:
    call_command("mock_call", "--number", clinic.phone.number, "--user", clinic.owner.email, *argv)
    return capsys.readouterr().out


def test_command_json_rows_carry_the_three_decisions(clinic, capsys, fake_router):
    out = command(clinic, "--say", ASK, "--say", ANSWER, "--say", "pizza", "--json", capsys=capsys)
    asked, answered, none = (json.loads(line) for line in out.splitlines())
    assert {k: asked[k] for k in ("decision", "job", "options", "question", "confidence")} == {
        "decision": "clarify",
        "job": None,
        "options": ["Book an appointment", "Reschedule or cancel"],
        "question": QUESTION,
        "confidence": None,
    }
    assert {k: answered[k] for k in ("decision", "job", "options", "question", "confidence")} == {
        "decision": "job",
        "job": "Reschedule or cancel",
        "options": [],
        "question": "",
        "confidence": "Likely",
    }
    assert answered["job_id"] == clinic.change.pk and answered["at_step"] == 1
    assert {k: none[k] for k in ("decision", "job", "options", "question", "confidence")} == {
        "decision": "none",
        "job": None,
        "options": [],
        "question": "",
        "confidence": None,
    }
    assert "ambiguous" not in asked


def test_command_text_says_the_decision_in_words(clinic, capsys, fake_router):
    out = command(clinic, "--say", ASK, "--say", ANSWER, "--say", "pizza", capsys=capsys)
    assert (
        f"  Decision: Sona asks “{QUESTION}” (“Book an appointment” or “Reschedule or cancel”)."
    ) in out
    assert "  Answers Sona's question: “Book an appointment” or “Reschedule or cancel”." in out
    assert "  Decision: Sona picked “Reschedule or cancel” (Likely)." in out
    assert (
        "  Decision: No job fits: Sona says what the business can help with and offers to take "
        "a message (“Take a message”)."
    ) in out


def test_command_with_the_builtin_router(clinic, capsys, tmp_path):
    calls = tmp_path / "calls.txt"  # one call a line
    calls.write_text(f"{CLINIC_SAYS['change']}\n{CLINIC_SAYS['none']}\n", encoding="utf-8")
    out = command(clinic, "--file", str(calls), "--json", capsys=capsys)
    picked, none = (json.loads(line) for line in out.splitlines())
    assert (picked["decision"], picked["job"]) == ("job", "Reschedule or cancel")
    assert picked["confidence"] in CONFIDENCES
    assert (none["decision"], none["job"], none["confidence"]) == ("none", None, None)


# Test cases --------------------------------------------------------------------------------


def _results(clinic):
    goal = mock.target(call_flow=clinic.flow)
    found = scenarios.step_scenarios(call_flow=clinic.flow, step_key=clinic.sona.key)
    return {r.scenario.turns[0]: r for r in scenarios.run_scenarios(goal, found)}


def test_a_question_is_no_pass(clinic, fake_router):
    _case(clinic, ASK, clinic.book)
    _case(clinic, "an appointment, or a message", clinic.message)
    _case(clinic, "about an appointment", None)
    _case(clinic, "pizza", None)
    _case(clinic, "I'd like to book", clinic.book)
    results = _results(clinic)
    offered = results[ASK]
    assert not offered.passed and offered.handled_by is None and offered.turns[0].clarify
    assert offered.problem == (
        f"Turn 1: expected “Book an appointment” by the end; Sona asked “{QUESTION}” instead of "
        "choosing it."
    )
    assert offered.failed_turn == 1
    assert [o.name for o in offered.turns[0].decision.options] == [
        "Book an appointment",
        "Reschedule or cancel",
    ]
    other = results["an appointment, or a message"]
    assert other.problem == (
        f"Turn 1: expected “Take a message” by the end; Sona asked “{QUESTION}”."
    )
    assert results["about an appointment"].problem == (
        f"Turn 1: expected no job by the end; Sona asked “{QUESTION}”."
    )
    assert results["pizza"].passed and results["pizza"].turns[0].no_job
    assert results["I'd like to book"].passed and results["I'd like to book"].turns[0].job


def test_the_builtin_router_on_clear_cases(clinic):
    _case(clinic, CLINIC_SAYS["none"], None)
    _case(clinic, CLINIC_SAYS["change"], clinic.change)
    _case(clinic, CLINIC_SAYS["message"], None)  # a wrong expectation
    results = _results(clinic)
    assert results[CLINIC_SAYS["none"]].passed
    assert results[CLINIC_SAYS["change"]].passed
    wrong = results[CLINIC_SAYS["message"]]
    assert wrong.problem == "Turn 1: expected no job by the end; Sona picked “Take a message”."


def test_the_tests_page_shows_each_decision(owner_client, clinic, fake_router):
    _case(clinic, ASK, clinic.book)
    _case(clinic, "pizza", None)
    _case(clinic, "Take a message for Dr Smith", clinic.message)
    body = text(owner_client.get(mock_url(clinic, "tests") + "?run=1"))
    assert "Fail No job by the end" in body
    assert (
        f"Turn 1: expected “Book an appointment” by the end; Sona asked “{QUESTION}” instead of "
        "choosing it."
    ) in body
    assert "Pass No job by the end" in body
    assert "Pass Ends on Take a message" in body


# The Tests page: mislabeled examples and Routing health ------------------------------------

MISLABELED = "I want to cancel my appointment tomorrow"


def test_a_mislabeled_example_is_flagged_next_to_it(owner_client, clinic):
    wrong = _case(clinic, MISLABELED, clinic.message)
    right = _case(clinic, CLINIC_SAYS["change"], clinic.change)
    none = _case(clinic, CLINIC_SAYS["none"], None)
    goal = mock.target(call_flow=clinic.flow)
    # What the router says, whatever its scores: the wrong label pulls toward the right job
    # (and may make the right example look pulled toward the wrong one: both are flagged).
    pulls = {p.example: p.pulled.name for p in routing.pulls(goal.candidates)}
    assert pulls[MISLABELED] == "Reschedule or cancel"
    html = owner_client.get(mock_url(clinic, "tests")).content.decode()

    def cell(case):
        return html.split(f'id="scenario-{case.pk}"', 1)[1].split("</th>", 1)[0]

    assert "This example pulls callers toward “Reschedule or cancel”; check its label." in cell(
        wrong
    )
    for case in (right, none):
        expected = pulls.get(case.turns[0])
        if expected:
            assert f"This example pulls callers toward “{expected}”; check its label." in cell(case)
        else:
            assert "pulls callers" not in cell(case)


def test_routing_health_has_a_row_per_attached_job(owner_client, clinic):
    _case(clinic, MISLABELED, clinic.message)
    _case(clinic, CLINIC_SAYS["change"], clinic.change)
    _case(clinic, "I need to move my appointment to Friday", clinic.change)
    page = owner_client.get(mock_url(clinic, "tests"))
    body = text(page)
    assert "Routing health" in body
    assert "Each test case is routed without itself, as a caller the router has never heard" in body
    goal = mock.target(call_flow=clinic.flow)
    rows = routing.health(goal.candidates)
    assert [r.name for r in rows] == [
        "Book an appointment",
        "Reschedule or cancel",
        "Take a message",
    ]
    table = body.split("Routing health", 1)[1]
    assert "Book an appointment 0 No test cases yet Nothing" in table
    for row in rows[1:]:
        confused = "; ".join(f"{to} ({n} time{'s' if n != 1 else ''})" for to, n in row.confused)
        shown = f"{row.name} {row.cases} {row.right} of {row.cases}"
        assert shown in table, (shown, table)
        assert (confused or "Nothing") in table.split(row.name, 1)[1]
    message = next(r for r in rows if r.name == "Take a message")
    assert message.cases == 1 and message.right == 0 and message.confused


@pytest.mark.parametrize("cases", [2, 40])
@pytest.mark.parametrize(("run", "queries"), [("", 12), ("?run=1", 18)])
def test_tests_page_queries_do_not_grow_with_cases(
    owner_client, clinic, cases, run, queries, django_assert_max_num_queries
):
    """Session, user, membership, number, step, the draft (2), jobs, examples, vectors,
    scenarios, the membership for the page; a run adds the live version's jobs and examples, the
    workspace's numbers for each side (to name transfers) and the scenarios' last results (one
    update, in a savepoint). Routing
    health and the mislabel warnings are computed from what is read: no query per scenario."""
    from callflows import services as cf

    cf.callflow_publish(call_flow=clinic.flow, user=clinic.owner)
    jobs = [clinic.book, clinic.change, clinic.message, None]
    Scenario.objects.bulk_create(
        Scenario(
            call_flow=clinic.flow,
            step_key=clinic.sona.key,
            name=f"Scenario {i}",
            turns=[f"caller sentence number {i} about an appointment"] * (1 + i % 3),
            expect={"job": jobs[i % 4].name if jobs[i % 4] else None, "never": ["send_sms"]},
        )
        for i in range(cases)
    )
    with django_assert_max_num_queries(queries):
        response = owner_client.get(mock_url(clinic, "tests") + run)
    assert response.status_code == 200 and "Routing health" in text(response)


# The publish preview and overlap warnings --------------------------------------------------


def test_the_publish_preview_warns_of_a_mislabeled_example(owner_client, clinic):
    _case(clinic, MISLABELED, clinic.message)
    body = text(owner_client.get(f"/numbers/{clinic.phone.pk}/publish/"))
    assert (
        f"On “Sona”, the test case “{MISLABELED}” of “Take a message”: this example pulls "
        "callers toward “Reschedule or cancel”; check its label."
    ) in body
    # Never suggests saving as a test case what is saved already.
    assert f"like “{MISLABELED}”" not in body
    assert (
        ">Publish</button>"
        in owner_client.get(f"/numbers/{clinic.phone.pk}/publish/").content.decode()
    )


@pytest.mark.parametrize(
    ("decision", "words"),
    [
        ("clarify", "Today Sona would ask the caller which they mean."),
        ("none", "Today neither fits well enough, and Sona would pick no job."),
        ("job", "Today “Book” comes out ahead of “Change”."),
    ],
)
def test_an_overlap_warning_says_what_routing_decides(decision, words):
    overlap = Overlap(
        "move my visit",
        expected=Match(2, "Change", 0.6),
        reached=Match(1, "Book", 0.7),
        suggestions=("Sharpen the caller intent of “Change” or “Book”.",),
        decision=decision,
    )
    message = gates.overlap_message("Sona", overlap)
    assert message == (
        "On “Sona”, callers asking about “move my visit” may reach “Book” instead of "
        f"“Change”. {words} Sharpen the caller intent of “Change” or “Book”."
    )
    assert "0.6" not in message and "0.7" not in message


def test_stored_mock_calls_are_no_figures(clinic):
    services.mock_call_end(call_flow=clinic.flow, user=clinic.owner, turns=[CLINIC_SAYS["none"]])
    assert Call.objects.get().source == Source.MOCK
