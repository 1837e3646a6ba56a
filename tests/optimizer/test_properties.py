"""Hypothesis: generated instructions with embedded facts and markers."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.optimizer import MAX_CHARS, OptimizeRefused, facts, optimize
from tests.optimizer.checks import assert_well_optimized

SETTINGS = settings(
    max_examples=150,
    deadline=None,  # timing has its own tests; a busy machine must not fail these
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

names = st.sampled_from(["Maria", "Dave Kim", "Dr. Patel", "Front desk", "Billing", "Rosa"])
fact = st.one_of(
    st.integers(1, 999).map(lambda n: f"${n}.99"),
    st.integers(1, 99_999).map(lambda n: f"${n:,}"),
    st.integers(0, 9999).map(lambda n: f"+1 (555) 010-{n:04d}"),
    st.integers(0, 9999).map(lambda n: f"+1555010{n:04d}"),
    st.integers(0, 9999).map(lambda n: f"555-010-{n:04d}"),
    st.sampled_from(["sales", "help", "jo.ann+calls"]).map(lambda u: f"{u}@acme.example.com"),
    st.sampled_from(
        ["https://acme.example.com/book", "https://x.example.org/a?b=1", "www.acme.com"]
    ),
    st.integers(1, 12).map(lambda h: f"{h}am"),
    st.tuples(st.integers(1, 12), st.sampled_from(["00", "15", "30"])).map(
        lambda t: f"{t[0]}:{t[1]} PM"
    ),
    names.map(lambda n: f'"{n}"'),
    st.integers(0, 500).map(str),
    st.integers(1, 99).map(lambda n: f"{n}%"),
)
marker = st.one_of(
    st.tuples(st.sampled_from(["Thanks!", "Book at", "Your code is"]), fact).map(
        lambda t: f"[[Send SMS: {t[0]} {t[1]}]]"
    ),
    st.one_of(names, fact).map(lambda target: f"[[Transfer call: {target}]]"),
)
hedge = st.sampled_from(
    [
        "",
        "",
        "you should probably try to ",
        "Maybe ",
        "please try to ",
        "It would be good to ",
        "just ",
        "I think you should ",
        "Perhaps ",
        "Then ",
        "And ",
        "First, ",
    ]
)
action = st.one_of(
    st.sampled_from(
        [
            "ask them their name",
            "ask for their phone number and email",
            "greet the caller",
            "ask if they have an account",
            "ask what their budget is",
            "take a message",
            "confirm the address",
            "offer a callback",
            "thank them",
            "apologize and stay calm",
        ]
    ),
    st.tuples(st.sampled_from(["tell them the price is", "mention", "read back", "say"]), fact).map(
        " ".join
    ),
    st.tuples(st.sampled_from(["send", "transfer", "then send"]), marker).map(" ".join),
)
condition = st.tuples(
    st.sampled_from(["If the caller refuses,", "If they ask about", "Otherwise"]),
    st.one_of(fact, st.just("it")),
    action,
).map(lambda t: f"{t[0]} {t[1]} {t[2]}" if t[0] == "If they ask about" else f"{t[0]} {t[2]}")
sentence = st.tuples(hedge, st.one_of(action, action, condition)).map("".join)
joiner = st.sampled_from(
    [". ", ".\n", "\n- ", "\n  - ", ", and ", " and then ", "; ", "\n\n", ". "]
)


@st.composite
def instructions(draw) -> str:
    parts = draw(st.lists(sentence, min_size=1, max_size=25))
    if draw(st.booleans()):  # repeats, as in real messy text
        parts += draw(st.lists(st.sampled_from(parts), max_size=3))
    text = parts[0]
    for part in parts[1:]:
        text += draw(joiner) + part
    if draw(st.booleans()):
        text = "Goal: " + draw(st.sampled_from(["take a message", "book a visit"])) + "\n" + text
    return text


triggers = st.sampled_from(["", "Caller wants to book", "Caller is upset about a bill"])


def optimized_or_refused(text: str, trigger: str):
    try:
        return optimize(text, trigger=trigger)
    except OptimizeRefused:
        return None


@SETTINGS
@given(instructions(), triggers)
def test_facts_are_kept(text, trigger):
    result = optimized_or_refused(text, trigger)
    if result is not None:
        assert facts(text) <= facts(result.text)


@SETTINGS
@given(instructions(), triggers)
def test_output_is_numbered_direct_deduplicated_and_closed(text, trigger):
    result = optimized_or_refused(text, trigger)
    if result is not None:
        assert_well_optimized(text, result.text)


@SETTINGS
@given(instructions(), triggers)
def test_optimizing_is_idempotent(text, trigger):
    result = optimized_or_refused(text, trigger)
    if result is not None:
        again = optimize(result.text, trigger=trigger)
        assert again.text == result.text
        assert again.already_optimized


@SETTINGS
@given(st.lists(instructions(), min_size=1, max_size=12).map("\n".join), triggers)
def test_result_is_within_the_limit_or_refused(text, trigger):
    try:
        result = optimize(text, trigger=trigger)
    except OptimizeRefused as refused:
        assert "10,000-character limit" in str(refused)
    else:
        assert len(result.text) <= MAX_CHARS


@SETTINGS
@given(instructions(), triggers)
def test_optimizing_is_deterministic(text, trigger):
    assert optimized_or_refused(text, trigger) == optimized_or_refused(text, trigger)


# Any text at all, not just instruction-like sentences: the guarantees still hold.
any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(string.ascii_letters + string.digits + " .,;:!?-+()$@/'\"\n[]%"),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)


@SETTINGS
@given(any_text)
def test_any_text_keeps_its_facts_and_is_idempotent(text):
    if not text.strip():
        return
    result = optimized_or_refused(text, "")
    if result is not None:
        assert facts(text) <= facts(result.text)
        assert optimize(result.text).text == result.text
