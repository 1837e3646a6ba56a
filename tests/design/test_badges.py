"""Every badge a template shows has a style: each class written beside `badge` in a template
(`<span class="badge pass">`) has a `.badge.<class>` rule in static/css/app.css, and a class
built from a value (`badge verdict-{{ … }}`) has at least one rule for its prefix."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR, "templates")
CSS = Path(settings.BASE_DIR, "static", "css", "app.css").read_text()

CLASS_ATTR = re.compile(r'class="(badge(?:[^"{]|\{%[^%]*%\}|\{\{[^}]*\}\})*)"')
TAG = re.compile(r"\{%[^%]*%\}")
VALUE = re.compile(r"\{\{[^}]*\}\}")


def badge_classes() -> dict[str, set[str]]:
    """{class or prefix ending in "-": the templates using it beside `badge`}."""
    used: dict[str, set[str]] = {}
    for path in TEMPLATES.rglob("*.html"):
        for attr in CLASS_ATTR.findall(path.read_text()):
            attr = VALUE.sub("{{", TAG.sub(" ", attr))  # `{% if … %} warn{% endif %}`: warn counts
            words = attr.split()
            for word in words[1:]:
                name = word.split("{{", 1)[0]  # verdict-{{ … }} -> verdict-
                if name:
                    used.setdefault(name, set()).add(str(path.relative_to(TEMPLATES)))
    return used


def styled() -> set[str]:
    return set(re.findall(r"\.badge\.([\w-]+)", CSS))


def test_the_scan_finds_the_badges_of_every_state():
    used = badge_classes()
    for state in ("pass", "fail", "live", "draft", "mock", "clarify", "alert", "warn"):
        assert state in used, state
    assert "verdict-" in used


def test_every_badge_class_used_in_a_template_has_a_css_rule():
    rules = styled()
    missing = {
        name: sorted(where)
        for name, where in badge_classes().items()
        if not (
            any(rule.startswith(name) for rule in rules) if name.endswith("-") else name in rules
        )
    }
    assert missing == {}


def test_states_that_mean_the_same_share_a_colour():
    def colours(state):
        rule = re.search(rf"[^}}]*\.badge\.{state}\b[^{{]*\{{([^}}]*)\}}", CSS).group(1)
        return re.findall(r"(background|color):\s*([^;]+);", rule)

    assert colours("pass") == colours("live")
    assert colours("fail") == colours("bad")
    assert colours("pass") != colours("fail")
    assert colours("mock") != colours("draft")
