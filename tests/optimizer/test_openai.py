"""The "openai" backend against a real HTTP server on 127.0.0.1 (no mocked client)."""

import time

import pytest

from jobs.optimizer import optimize
from tests.fake_llm import serving

SOURCE = (
    "you should probably ask them their name. The visit is $49.99. "
    "send [[Send SMS: Book at https://acme.example.com/book]]"
)
TRIGGER = "Caller wants to book a visit"
GOOD_ANSWER = (
    f"Caller intent: {TRIGGER}\n\n"
    '1. Ask: "What is your name?"\n'
    "2. Tell the caller the visit is $49.99.\n"
    "3. Send [[Send SMS: Book at https://acme.example.com/book]]\n"
    "4. End the job: thank the caller."
)


@pytest.fixture
def endpoint(settings):
    with serving(GOOD_ANSWER) as server:
        settings.OPTIMIZER_BACKEND = "openai"
        settings.OPTIMIZER_BASE_URL = server.base_url
        settings.OPTIMIZER_API_KEY = "test-key"
        settings.OPTIMIZER_MODEL = "test-model"
        settings.OPTIMIZER_TIMEOUT = 5
        yield server


def builtin_result(settings):
    settings.OPTIMIZER_BACKEND = "builtin"
    result = optimize(SOURCE, trigger=TRIGGER)
    settings.OPTIMIZER_BACKEND = "openai"
    return result


def test_a_good_answer_is_used(endpoint):
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.text == GOOD_ANSWER
    assert result.backend == "openai"
    assert result.notice == ""
    assert not result.already_optimized
    assert "test-model" in result.changes[0]


def test_the_request_follows_the_chat_completions_api(endpoint):
    optimize(SOURCE, trigger=TRIGGER)
    [request] = endpoint.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer test-key"
    body = request["json"]
    assert body["model"] == "test-model"
    assert body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system"
    assert "numbered steps" in system["content"] and "[[Send SMS: ...]]" in system["content"]
    assert user["role"] == "user"
    assert TRIGGER in user["content"] and SOURCE in user["content"]


def test_a_code_fence_around_the_answer_is_removed(endpoint):
    endpoint.answer(f"```text\n{GOOD_ANSWER}\n```")
    assert optimize(SOURCE, trigger=TRIGGER).text == GOOD_ANSWER


def test_a_slow_answer_falls_back_to_the_builtin_rewriter(endpoint, settings):
    expected = builtin_result(settings)
    settings.OPTIMIZER_TIMEOUT = 0.5
    endpoint.delay = 2
    start = time.monotonic()
    result = optimize(SOURCE, trigger=TRIGGER)
    assert time.monotonic() - start < 1.5
    assert result.backend == "builtin"
    assert result.text == expected.text
    assert result.notice == (
        "The AI rewriter was unavailable (timed out after 0.5 s); "
        "used the built-in rewriter instead."
    )


def test_a_server_error_falls_back(endpoint, settings):
    endpoint.status = 500
    endpoint.body = b'{"error": "boom"}'
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert result.text == builtin_result(settings).text
    assert result.notice == (
        "The AI rewriter was unavailable (the endpoint answered HTTP 500); "
        "used the built-in rewriter instead."
    )


def test_an_answer_that_drops_a_fact_falls_back(endpoint):
    endpoint.answer(GOOD_ANSWER.replace("$49.99", "fifty dollars"))
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert "$49.99" in result.text
    assert result.notice == (
        "The AI rewriter's answer was not used (it left out $49.99); "
        "used the built-in rewriter instead."
    )


def test_an_answer_that_changes_an_action_marker_falls_back(endpoint):
    endpoint.answer(GOOD_ANSWER.replace("[[Send SMS: Book at", "[[Send SMS: Book now at"))
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert "[[Send SMS: Book at https://acme.example.com/book]]" in result.text
    assert "it left out [[Send SMS: Book at https://acme.example.com/book]]" in result.notice


def test_an_answer_over_the_limit_falls_back(endpoint):
    endpoint.answer(GOOD_ANSWER + "\n" + "5. Stay on the line.\n" * 600)
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert "over the 10,000-character limit" in result.notice
    assert result.notice.endswith("used the built-in rewriter instead.")


@pytest.mark.parametrize("answer", ["", "   \n"])
def test_an_empty_answer_falls_back(endpoint, answer):
    endpoint.answer(answer)
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert result.notice == (
        "The AI rewriter's answer was not used (it was empty); used the built-in rewriter instead."
    )


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"choices": []}', b'{"choices": [{}]}'])
def test_a_malformed_answer_falls_back(endpoint, body):
    endpoint.body = body
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert result.notice == (
        "The AI rewriter was unavailable (its answer was not a valid chat completion); "
        "used the built-in rewriter instead."
    )


def test_a_closed_port_falls_back(endpoint, settings):
    endpoint.shutdown()
    endpoint.server_close()
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert result.notice.startswith("The AI rewriter was unavailable (could not connect:")


def test_a_missing_endpoint_setting_falls_back(settings):
    settings.OPTIMIZER_BACKEND = "openai"
    settings.OPTIMIZER_BASE_URL = ""
    result = optimize(SOURCE, trigger=TRIGGER)
    assert result.backend == "builtin"
    assert result.notice == (
        "The AI rewriter was unavailable (OPTIMIZER_BASE_URL is not set); "
        "used the built-in rewriter instead."
    )


def test_an_unchanged_answer_is_already_optimized(endpoint):
    endpoint.answer(GOOD_ANSWER)
    result = optimize(GOOD_ANSWER, trigger=TRIGGER)
    assert result.already_optimized
    assert result.changes == ["Already optimized: nothing to change."]
    assert result.backend == "openai"


def test_empty_instructions_never_reach_the_endpoint(endpoint):
    with pytest.raises(ValueError, match="There are no instructions to optimize."):
        optimize("  ")
    assert endpoint.requests == []


def test_an_unknown_backend_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OPTIMIZER_BACKEND = "magic"
    with pytest.raises(
        ImproperlyConfigured,
        match='must be "builtin", "openai" or a dotted path to a backend class',
    ):
        optimize(SOURCE)


def test_empty_model_and_timeout_settings_use_the_defaults(endpoint, settings):
    # The settings file reads these from the environment, where unset means "".
    settings.OPTIMIZER_MODEL = ""
    settings.OPTIMIZER_TIMEOUT = None
    assert optimize(SOURCE, trigger=TRIGGER).backend == "openai"
    assert endpoint.requests[0]["json"]["model"] == "gpt-4o-mini"


def test_an_empty_backend_setting_means_builtin(settings):
    settings.OPTIMIZER_BACKEND = ""
    assert optimize(SOURCE).backend == "builtin"
