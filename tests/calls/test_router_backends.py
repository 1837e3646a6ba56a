"""ROUTER_BACKEND through the one settings reader (core/backends.py): short names in any
spelling, a dotted path to a class, a clear error and a startup check for anything else, and
the runtime keeping built-in answers whatever the spelling."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from calls import routing, runtime
from calls.routing import Candidate, route

DENTIST = (
    Candidate(1, "Book an appointment", "Caller wants to book a new appointment"),
    Candidate(2, "Change an appointment", "Caller wants to move or cancel their appointment"),
)
SAID = "I want to book an appointment"


@pytest.fixture
def counted(monkeypatch):
    """How often the runtime really asked the router (not its cache)."""
    calls = []
    real = routing.route

    def route(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(routing, "route", route)
    runtime._decisions.clear()
    yield calls
    runtime._decisions.clear()


def ask_twice(said=SAID):
    index = runtime.Index(1, 1, {"s": runtime.StepIndex("s", "Sona", DENTIST, {})})
    step = index.step("s")
    first = runtime.decide(1, index, step, said, [], None)
    second = runtime.decide(1, index, step, said, [], None)
    assert second == first
    return first


@pytest.mark.parametrize(
    "value",
    ["builtin", "Builtin", " builtin ", "BUILTIN", "", "calls.routing.engine.BuiltinRouter"],
)
def test_every_spelling_of_builtin_routes_and_keeps_its_answers(settings, counted, value):
    settings.ROUTER_BACKEND = value
    decision = ask_twice()
    assert (decision.backend, decision.job.id) == ("builtin", 1)
    assert len(counted) == 1  # the second, same question was answered from the runtime's cache


def test_the_llm_routers_fallback_is_not_kept(settings, counted):
    settings.ROUTER_BACKEND = " LLM "
    settings.LLM_BASE_URL = ""  # unavailable: the built-in router answers, with a notice
    decision = ask_twice()
    assert decision.backend == "builtin" and decision.notice
    assert len(counted) == 2  # the LLM may be back for the next question


def test_a_dotted_path_to_a_router_class(settings, fake_router):
    settings.ROUTER_BACKEND = "tests.calls.fake_router.FakeRouter"
    decision = route(DENTIST, "is this the pizza place?")
    assert (decision.backend, decision.decision) == ("fake", "none")
    assert fake_router.CALLS == [("is this the pizza place?", ())]
    assert _backend_errors() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "magic",
            'ROUTER_BACKEND must be "builtin", "llm" or a dotted path to a backend class, '
            "not 'magic'.",
        ),
        (
            "tests.calls.fake_router.Missing",
            "ROUTER_BACKEND = 'tests.calls.fake_router.Missing' names no backend (Module "
            '"tests.calls.fake_router" does not define a "Missing" attribute/class); it must be '
            '"builtin", "llm" or a dotted path to a backend class.',
        ),
        (
            "tests.calls.fake_router.route",
            "ROUTER_BACKEND = 'tests.calls.fake_router.route' is not a backend class (a "
            "class with the method route()).",
        ),
        (
            "jobs.optimizer.builtin.BuiltinOptimizer",
            "ROUTER_BACKEND = 'jobs.optimizer.builtin.BuiltinOptimizer' is not a backend class (a "
            "class with the method route()).",
        ),
    ],
)
def test_anything_else_is_a_clear_error_and_fails_the_startup_check(settings, value, message):
    settings.ROUTER_BACKEND = value
    with pytest.raises(ImproperlyConfigured) as error:
        route(DENTIST, SAID)
    assert str(error.value) == message
    [found] = _backend_errors()
    assert (found.msg, found.level) == (message, checks.ERROR)


def test_the_startup_check_passes_for_the_short_names(settings):
    for value in ("builtin", " Llm "):
        settings.ROUTER_BACKEND = value
        assert _backend_errors() == []


def _backend_errors():
    return [m for m in checks.run_checks() if m.id == "core.E001"]


def test_manage_py_check_reports_a_bad_backend(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.ROUTER_BACKEND = "magic"
    with pytest.raises(SystemCheckError, match=r"\?: \(core.E001\) ROUTER_BACKEND must be"):
        call_command("check")
    settings.ROUTER_BACKEND = "builtin"
    call_command("check")
