"""OPTIMIZER_BACKEND through the one settings reader (core/backends.py), as the router's."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from jobs.optimizer import Result, optimize

SOURCE = "Greet the caller and ask what they need. Then take a message."


class ShoutingOptimizer:
    """A backend for this test: OPTIMIZER_BACKEND = "tests.optimizer.test_backends.ShoutingOptimizer"."""

    def optimize(self, text: str, trigger: str = "") -> Result:
        return Result(text=text.upper(), changes=["Shouted."], backend="shouting")


@pytest.mark.parametrize(
    "value",
    ["Builtin", " builtin ", "BUILTIN", "", None, "jobs.optimizer.builtin.BuiltinOptimizer"],
)
def test_every_spelling_of_builtin_is_the_builtin_rewriter(settings, value):
    expected = optimize(SOURCE)
    settings.OPTIMIZER_BACKEND = value
    assert optimize(SOURCE) == expected
    assert expected.backend == "builtin" and expected.text.startswith("1. Greet the caller.")


def test_openai_in_any_case(settings):
    settings.OPTIMIZER_BACKEND = " OpenAI "
    settings.OPTIMIZER_BASE_URL = ""
    settings.LLM_BASE_URL = ""
    result = optimize(SOURCE)
    assert result.backend == "builtin"  # the fallback, which only the openai backend has
    assert result.notice.startswith("The AI rewriter was unavailable")


def test_a_dotted_path_to_an_optimizer_class(settings):
    settings.OPTIMIZER_BACKEND = "tests.optimizer.test_backends.ShoutingOptimizer"
    result = optimize(SOURCE, trigger="Caller wants to leave a message")
    assert (result.text, result.backend) == (SOURCE.upper(), "shouting")
    assert _backend_errors() == []


def test_empty_text_is_refused_before_any_backend(settings):
    settings.OPTIMIZER_BACKEND = "tests.optimizer.test_backends.ShoutingOptimizer"
    with pytest.raises(ValueError, match="There are no instructions to optimize."):
        optimize(" \n ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "magic",
            'OPTIMIZER_BACKEND must be "builtin", "openai" or a dotted path to a backend class, '
            "not 'magic'.",
        ),
        (
            "tests.optimizer.nowhere.Optimizer",
            "OPTIMIZER_BACKEND = 'tests.optimizer.nowhere.Optimizer' names no backend (No module "
            'named \'tests.optimizer.nowhere\'); it must be "builtin", "openai" or a dotted '
            "path to a backend class.",
        ),
        (
            "calls.routing.engine.BuiltinRouter",
            "OPTIMIZER_BACKEND = 'calls.routing.engine.BuiltinRouter' is not a backend class (a "
            "class with the method optimize()).",
        ),
    ],
)
def test_anything_else_is_a_clear_error_and_fails_the_startup_check(settings, value, message):
    settings.OPTIMIZER_BACKEND = value
    with pytest.raises(ImproperlyConfigured) as error:
        optimize(SOURCE)
    assert str(error.value) == message
    [found] = _backend_errors()
    assert (found.msg, found.level) == (message, checks.ERROR)


def _backend_errors():
    return [m for m in checks.run_checks() if m.id == "core.E001"]
