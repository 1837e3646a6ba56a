"""The corpus, and the properties every optimized text must have."""

import pathlib
import re

from jobs.optimizer import MAX_CHARS, facts

CORPUS = pathlib.Path(__file__).parent / "corpus"


def load_item(path: pathlib.Path) -> tuple[str, str]:
    """A corpus file: an optional first line "trigger: ...", then the instructions."""
    text = path.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if first.startswith("trigger:"):
        return first.removeprefix("trigger:").strip(), rest
    return "", text


STEP_RE = re.compile(r"^(\d+)\. (\S.*)$")
SUB_RE = re.compile(r"^   - (\S.*)$")
PROTECTED_RE = re.compile(r"\[\[.*?\]\]|\"[^\"\n]*\"|“[^”\n]*”|https?://\S+|\S+@\S+")
INLINE_HEDGES_RE = re.compile(
    r"\b(?:maybe|probably|perhaps|possibly)\b|please try to|it would be good to|"
    r"you should probably|you might want to",
    re.IGNORECASE,
)
LEADING_HEDGES_RE = re.compile(r"^(?:you should|try to|please|just|i think)\b", re.IGNORECASE)
CLOSING_RE = re.compile(
    r"^(?:end|finish|close|wrap up|hang up|say goodbye|thank|transfer)\b|"
    r"\b(?:goodbye|hang up|end the (?:call|job))\b|\[\[Transfer call:",
    re.IGNORECASE,
)


def parse(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Split optimized text into (intent, [(step, [sub-bullets])]); fail on any other line."""
    lines = text.split("\n")
    intent = ""
    if lines[0].startswith("Caller intent: "):
        intent = lines[0].removeprefix("Caller intent: ")
        assert lines[1] == "", "a blank line follows the intent"
        lines = lines[2:]
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        step, sub = STEP_RE.match(line), SUB_RE.match(line)
        if step:
            assert int(step[1]) == len(steps) + 1, f"steps are numbered 1, 2, 3...: {line!r}"
            steps.append((step[2], []))
        else:
            assert sub and steps, f"every line is a numbered step or its sub-bullet: {line!r}"
            steps[-1][1].append(sub[1])
    assert steps, "at least one numbered step"
    return intent, steps


def assert_well_optimized(source: str, text: str) -> None:
    assert len(text) <= MAX_CHARS
    missing = facts(source) - facts(text)
    assert not missing, f"facts dropped: {missing}"
    _intent, steps = parse(text)
    assert CLOSING_RE.search(steps[-1][0]), f"last step is not a closing step: {steps[-1][0]!r}"
    keys = [" ".join(step.casefold().split()).rstrip(".!?:") for step, _subs in steps]
    assert len(keys) == len(set(keys)), "no step is repeated"
    for step, subs in steps:
        assert len(subs) == len(set(subs)), "no sub-bullet is repeated"
        for line in [step, *subs]:
            plain = PROTECTED_RE.sub(" ", line)
            assert not INLINE_HEDGES_RE.search(plain), f"hedge left in {line!r}"
            assert not LEADING_HEDGES_RE.match(plain), f"hedged start in {line!r}"
