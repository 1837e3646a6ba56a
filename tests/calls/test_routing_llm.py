"""The "llm" router backend and Sona's replies against a real HTTP server on 127.0.0.1."""

import json
import time
from dataclasses import replace

import pytest

from calls.routing import route
from calls.routing.engine import question
from calls.routing.replies import sona_reply
from tests.calls.conftest import GYM
from tests.fake_llm import serving

SAID = "I'm moving away and need to end my membership"
GOOD = {
    "decision": "job",
    "job_id": 2,
    "confidence": "Sure",
    "scores": {"1": 0.1, "2": 0.92, "5": 0.05},
    "reason": "ending membership",
}
ASK = "Are you calling to join the gym, or to cancel or freeze your membership?"
CLARIFY = {
    "decision": "clarify",
    "job_id": None,
    "options": [1, 2],
    "question": ASK,
    "confidence": "Unsure",
    "reason": "\u201cmy membership\u201d fits joining and cancelling",
}
NONE = {"decision": "none", "job_id": None, "reason": "wrong number"}


@pytest.fixture
def endpoint(settings):
    with serving(json.dumps(GOOD)) as server:
        settings.ROUTER_BACKEND = "llm"
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_API_KEY = "test-key"
        settings.LLM_MODEL = "test-model"
        settings.LLM_TIMEOUT = 5
        yield server


def answer(endpoint, **fields):
    endpoint.answer(json.dumps(fields))


def builtin_decision(settings, said=SAID, **kwargs):
    backend = settings.ROUTER_BACKEND
    settings.ROUTER_BACKEND = "builtin"
    decision = route(GYM, said, **kwargs)
    settings.ROUTER_BACKEND = backend
    return decision


def prompt(endpoint, turn=-1) -> str:
    return endpoint.requests[turn]["json"]["messages"][1]["content"]


# The three decisions.


def test_a_job_answer_is_used(endpoint):
    decision = route(GYM, SAID)
    assert (decision.decision, decision.backend, decision.notice) == ("job", "llm", "")
    assert decision.job.id == 2 and decision.job.score == 0.92
    assert decision.job.why == ("ending membership",)
    assert decision.confidence == "Sure" and not decision.continued
    assert decision.runner_up.id == 1
    assert [m.id for m in decision.ranking][:2] == [2, 1]
    assert {m.id for m in decision.ranking} == {c.id for c in GYM}  # unscored: built-in scores
    assert decision.options == () and decision.question == ""


@pytest.mark.parametrize("confidence", [None, "very", 3])
def test_a_missing_or_unknown_confidence_is_likely(endpoint, confidence):
    answer(endpoint, decision="job", job_id=2, confidence=confidence)
    decision = route(GYM, SAID)
    assert (decision.backend, decision.job.id, decision.confidence) == ("llm", 2, "Likely")


def test_the_chosen_job_comes_first_even_when_unscored(endpoint):
    answer(endpoint, decision="job", job_id="4", scores={"1": 0.3, "2": 0.6, "3": 0.1, "5": 0.2})
    decision = route(GYM, SAID)
    assert [(m.id, m.score) for m in decision.ranking] == [
        (4, 0.6),
        (2, 0.6),
        (1, 0.3),
        (5, 0.2),
        (3, 0.1),
    ]


def test_a_clarify_answer_asks_the_models_question(endpoint):
    answer(endpoint, **CLARIFY)
    decision = route(GYM, "I'm calling about my membership")
    assert (decision.decision, decision.backend, decision.notice) == ("clarify", "llm", "")
    assert decision.job is None and decision.confidence == ""
    assert [m.id for m in decision.options] == [1, 2]
    assert decision.question == ASK
    assert decision.runner_up == decision.options[1]
    assert decision.ranking[:2] == decision.options and len(decision.ranking) == len(GYM)
    assert decision.options[0].why == (CLARIFY["reason"],)


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_a_clarify_without_a_question_asks_between_the_two_jobs_names(endpoint, missing):
    answer(endpoint, **{**CLARIFY, "options": [2, 1], "question": missing})
    decision = route(GYM, "I'm calling about my membership")
    assert decision.decision == "clarify" and decision.backend == "llm"
    assert [m.id for m in decision.options] == [2, 1]
    assert decision.question == question(*decision.options, GYM)
    assert "cancel" in decision.question and "membership sign-up" in decision.question


def test_a_clarify_may_lean_to_one_of_its_options(endpoint):
    answer(endpoint, **{**CLARIFY, "job_id": 2})
    assert route(GYM, "I'm calling about my membership").decision == "clarify"


def test_a_none_answer_is_no_job(endpoint):
    answer(endpoint, **NONE)
    decision = route(GYM, "is this the pizza place?")
    assert (decision.decision, decision.backend, decision.notice) == ("none", "llm", "")
    assert decision.no_job and decision.job is None and decision.options == ()
    assert decision.runner_up == decision.ranking[0]  # the closest job
    assert len(decision.ranking) == len(GYM)


def test_clarify_is_settled_on_the_next_turn(endpoint):
    answer(endpoint, **CLARIFY)
    asked = route(GYM, "I'm calling about my membership")
    answer(endpoint, decision="job", job_id=2, confidence="Sure", reason="the second one")
    settled = route(
        GYM,
        "the second one, I want to cancel",
        history=["I'm calling about my membership"],
        options=[m.id for m in asked.options],
    )
    assert (settled.decision, settled.job.id, settled.backend) == ("job", 2, "llm")
    assert settled.runner_up.id == 1
    assert (
        "Options: Sona just asked the caller to choose between job 1 (Membership sign-up) and "
        "job 2 (Cancel or freeze membership)." in prompt(endpoint)
    )
    assert "Options:" not in prompt(endpoint, turn=0)


def test_keeping_the_current_job_is_continued(endpoint):
    assert route(GYM, "yes please", current=2).continued
    assert not route(GYM, "yes please", current=1).continued


def test_the_request_names_every_job_the_options_and_the_current_job(endpoint):
    route(GYM, SAID, history=["hi there"], current=5, options=(3, 4))
    [request] = endpoint.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer test-key"
    body = request["json"]
    assert body["model"] == "test-model" and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]["content"]
    assert all(f'"{d}"' in system for d in ("job", "clarify", "none"))
    user = prompt(endpoint)
    assert all(c.name in user for c in GYM)
    assert SAID in user and "hi there" in user
    assert "Current job id: 5 (Lost and found)" in user
    assert "between job 3 (Class schedule) and job 4 (Personal training)" in user


def test_options_not_on_the_step_are_left_out_of_the_request(endpoint):
    route(GYM, SAID, current=99, options=(1, 99))
    assert "Options:" not in prompt(endpoint) and "Current job" not in prompt(endpoint)


# Answers that are not used: the built-in router answers, and says why.


def fallback_notice(why):
    return f"The AI router {why}; the built-in router answered."


def assert_builtin(decision, settings, why, said=SAID, **kwargs):
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice(why)
    assert replace(decision, notice="") == builtin_decision(settings, said, **kwargs)


def test_an_answer_naming_a_job_not_on_the_step_falls_back(endpoint, settings):
    answer(endpoint, **{**GOOD, "job_id": 99})
    decision = route(GYM, SAID)
    assert decision.notice == (
        "The AI router named a job that is not on this step; the built-in router answered."
    )
    assert_builtin(decision, settings, "named a job that is not on this step")
    assert decision.job.name == "Cancel or freeze membership"


def test_a_clarify_naming_one_job_twice_falls_back(endpoint, settings):
    answer(endpoint, **{**CLARIFY, "options": [2, 2]})
    decision = route(GYM, SAID)
    assert_builtin(decision, settings, "asked a question between a job and itself")


def test_a_fallback_on_the_settling_turn_still_settles_the_question(endpoint, settings):
    endpoint.answer("the second one")
    decision = route(GYM, "the second one", options=(1, 2))
    assert_builtin(
        decision,
        settings,
        "answered something that was not JSON",
        said="the second one",
        options=(1, 2),
    )
    assert decision.job.id == 2


WRONG = "answered in the wrong format"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("I think it is job 2", "answered something that was not JSON"),
        ("[2]", f"{WRONG} (not a JSON object)"),
        (
            json.dumps({"job_id": 2}),
            "gave no decision (a job, a question or no job)",
        ),
        (
            json.dumps({**GOOD, "decision": "transfer"}),
            "gave no decision (a job, a question or no job)",
        ),
        (json.dumps({**GOOD, "job_id": None}), "chose a job without naming it"),
        (json.dumps({**GOOD, "job_id": "two"}), f"{WRONG} (a job id was not a number)"),
        (json.dumps({**GOOD, "job_id": True}), f"{WRONG} (a job id was not a number)"),
        (json.dumps({**GOOD, "job_id": 2.0}), f"{WRONG} (a job id was not a number)"),
        (json.dumps({**NONE, "job_id": 2}), "answered that no job fits but named one"),
        (
            json.dumps({**CLARIFY, "options": [2]}),
            "asked a question without two jobs to choose between",
        ),
        (
            json.dumps({**CLARIFY, "options": [1, 2, 3]}),
            "asked a question without two jobs to choose between",
        ),
        (
            json.dumps({**CLARIFY, "options": "1, 2"}),
            "asked a question without two jobs to choose between",
        ),
        (json.dumps({**CLARIFY, "options": [1, 42]}), "named a job that is not on this step"),
        (
            json.dumps({**CLARIFY, "job_id": 3}),
            "asked a question between two jobs but named a third",
        ),
        (
            json.dumps({**CLARIFY, "question": "Which one? " * 30}),
            "wrote a question longer than 300 characters",
        ),
        (json.dumps({**CLARIFY, "question": ["Which?"]}), f"{WRONG} (its question was not text)"),
        (
            json.dumps({**GOOD, "scores": {"2": 1.7}}),
            "gave a job a score that is not a number from 0 to 1",
        ),
        (
            json.dumps({**GOOD, "scores": {"2": "high"}}),
            "gave a job a score that is not a number from 0 to 1",
        ),
        (json.dumps({**GOOD, "scores": {"42": 0.5}}), "named a job that is not on this step"),
        (json.dumps({**GOOD, "scores": [0.5]}), f"{WRONG} (its scores were not a list of jobs)"),
        (json.dumps({**GOOD, "reason": 7}), f"{WRONG} (its reason was not text)"),
    ],
)
def test_an_invalid_answer_falls_back_visibly(endpoint, settings, content, problem):
    endpoint.answer(content)
    assert_builtin(route(GYM, SAID), settings, problem)


def test_a_malformed_completion_falls_back(endpoint, settings):
    endpoint.body = b'{"choices": []}'
    decision = route(GYM, SAID)
    assert_builtin(
        decision, settings, "was unavailable (its answer was not a valid chat completion)"
    )


def test_a_server_error_falls_back(endpoint, settings):
    endpoint.status = 500
    endpoint.body = b'{"error": "boom"}'
    decision = route(GYM, SAID)
    assert_builtin(decision, settings, "was unavailable (the endpoint answered HTTP 500)")
    assert decision.job.name == "Cancel or freeze membership"
    assert len(endpoint.requests) == 1  # no retries: a dead endpoint falls back fast


def test_a_slow_answer_falls_back_within_the_timeout(endpoint, settings):
    settings.LLM_TIMEOUT = 0.5
    endpoint.delay = 5
    builtin_decision(settings)  # the fallback's model is loaded: only the wait is timed
    start = time.monotonic()
    decision = route(GYM, SAID)
    assert time.monotonic() - start < 2.5  # well before the 5 s answer (a loaded CI machine)
    assert_builtin(decision, settings, "was unavailable (timed out after 0.5 s)")


def test_a_server_that_is_down_falls_back(endpoint, settings):
    endpoint.shutdown()
    endpoint.server_close()
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice.startswith("The AI router was unavailable (could not connect:")
    assert replace(decision, notice="") == builtin_decision(settings)


def test_not_configured_falls_back(settings):
    settings.ROUTER_BACKEND = "llm"
    settings.LLM_BASE_URL = ""
    decision = route(GYM, SAID)
    assert_builtin(decision, settings, "was unavailable (LLM_BASE_URL is not set)")
    assert decision.job.name == "Cancel or freeze membership"


def test_no_jobs_is_no_job_without_asking(endpoint):
    decision = route((), SAID)
    assert (decision.decision, decision.backend) == ("none", "llm")
    assert endpoint.requests == []


def test_an_unknown_backend_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ROUTER_BACKEND = "magic"
    with pytest.raises(ImproperlyConfigured, match='"builtin", "llm" or a dotted path'):
        route(GYM, SAID)


REPLY_ARGS = dict(
    job_name="Cancel or freeze membership",
    instructions="1. Cancelling needs 30 days' notice.",
    passages=["Freezing costs $5 a month."],
    greeting="Thanks for calling Iron Gym!",
    said=SAID,
    history=["hi"],
)


def test_sona_replies_with_the_llm(endpoint):
    endpoint.answer("  Sorry to see you go! Cancelling needs 30 days' notice.  ")
    assert sona_reply(**REPLY_ARGS) == (
        "Sorry to see you go! Cancelling needs 30 days' notice.",
        "",
    )
    body = endpoint.requests[0]["json"]
    assert "30 days' notice" in body["messages"][0]["content"]
    assert [m["content"] for m in body["messages"][1:]] == ["hi", SAID]


def test_sona_reply_is_empty_with_the_builtin_backend(settings):
    settings.ROUTER_BACKEND = "builtin"
    assert sona_reply(**REPLY_ARGS) == ("", "")


def test_sona_reply_failure_says_why(endpoint):
    endpoint.status = 500
    text, notice = sona_reply(**REPLY_ARGS)
    assert text == ""
    assert notice == (
        "Sona's AI reply was unavailable (the endpoint answered HTTP 500); "
        "showing the job's own words."
    )
