"""The "llm" router backend and Sona's replies against a real HTTP server on 127.0.0.1."""

import json
import time

import pytest

from calls.routing import route
from calls.routing.replies import sona_reply
from tests.calls.conftest import GYM
from tests.fake_llm import serving

SAID = "I'm moving away and need to end my membership"
GOOD = {"job_id": 2, "scores": {"1": 0.1, "2": 0.92, "5": 0.05}, "reason": "ending membership"}


@pytest.fixture
def endpoint(settings):
    with serving(json.dumps(GOOD)) as server:
        settings.ROUTER_BACKEND = "llm"
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_API_KEY = "test-key"
        settings.LLM_MODEL = "test-model"
        settings.LLM_TIMEOUT = 5
        yield server


def builtin_decision(settings, said=SAID, **kwargs):
    backend = settings.ROUTER_BACKEND
    settings.ROUTER_BACKEND = "builtin"
    decision = route(GYM, said, **kwargs)
    settings.ROUTER_BACKEND = backend
    return decision


def test_a_good_answer_is_used(endpoint):
    decision = route(GYM, SAID)
    assert decision.backend == "llm" and decision.notice == ""
    assert decision.job.id == 2 and decision.job.score == 0.92
    assert decision.job.why == ("ending membership",)
    assert decision.runner_up.id == 1
    assert [m.id for m in decision.ranking][:2] == [2, 1]
    assert len(decision.ranking) == len(GYM)  # unscored jobs keep their built-in scores
    assert not decision.ambiguous


def test_the_request_names_every_job_and_asks_for_json(endpoint):
    route(GYM, SAID, history=["hi there"], current=5)
    [request] = endpoint.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer test-key"
    body = request["json"]
    assert body["model"] == "test-model" and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    user = body["messages"][1]["content"]
    assert all(c.name in user for c in GYM)
    assert SAID in user and "hi there" in user and "Current job id: 5" in user


def test_the_model_may_answer_no_job(endpoint):
    endpoint.answer(json.dumps({"job_id": None, "scores": {}, "reason": "wrong number"}))
    decision = route(GYM, "is this the pizza place?")
    assert decision.job is None and decision.backend == "llm"


def test_keeping_the_current_job_is_continued(endpoint):
    assert route(GYM, "yes please", current=2).continued


def fallback_notice(why):
    return f"The AI router {why}; the built-in router answered."


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("I think it is job 2", "it was not JSON"),
        ("[2]", "it was not a JSON object"),
        (
            json.dumps({"job_id": 99, "scores": {}, "reason": ""}),
            "it named job 99, which is not one of this step's jobs",
        ),
        (
            json.dumps({"job_id": 2, "scores": {"2": 1.7}, "reason": ""}),
            "its score 1.7 was not a number from 0 to 1",
        ),
        (
            json.dumps({"job_id": 2, "scores": {"42": 0.5}, "reason": ""}),
            "it scored job 42, which is not one of this step's jobs",
        ),
    ],
)
def test_an_invalid_answer_falls_back_visibly(endpoint, settings, content, problem):
    endpoint.answer(content)
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice(f"answer was not used ({problem})")
    expected = builtin_decision(settings)
    assert (decision.job, decision.ranking) == (expected.job, expected.ranking)


def test_a_malformed_completion_falls_back(endpoint):
    endpoint.body = b'{"choices": []}'
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice(
        "was unavailable (its answer was not a valid chat completion)"
    )


def test_a_server_error_falls_back(endpoint):
    endpoint.status = 500
    endpoint.body = b'{"error": "boom"}'
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice("was unavailable (the endpoint answered HTTP 500)")
    assert decision.job.name == "Cancel or freeze membership"
    assert len(endpoint.requests) == 1  # no retries: a dead endpoint falls back fast


def test_a_slow_answer_falls_back_within_the_timeout(endpoint, settings):
    settings.LLM_TIMEOUT = 0.5
    endpoint.delay = 5
    builtin_decision(settings)  # the fallback's model is loaded: only the wait is timed
    start = time.monotonic()
    decision = route(GYM, SAID)
    assert time.monotonic() - start < 2.5  # well before the 5 s answer (a loaded CI machine)
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice("was unavailable (timed out after 0.5 s)")


def test_a_closed_port_falls_back(endpoint):
    endpoint.shutdown()
    endpoint.server_close()
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice.startswith("The AI router was unavailable (could not connect:")


def test_not_configured_falls_back(settings):
    settings.ROUTER_BACKEND = "llm"
    settings.LLM_BASE_URL = ""
    decision = route(GYM, SAID)
    assert decision.backend == "builtin"
    assert decision.notice == fallback_notice("was unavailable (LLM_BASE_URL is not set)")
    assert decision.job.name == "Cancel or freeze membership"


def test_an_unknown_backend_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ROUTER_BACKEND = "magic"
    with pytest.raises(ImproperlyConfigured, match='"builtin" or "llm"'):
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
