"""The built-in rewriter's rules, one behaviour per test, through `optimize`."""

import pytest

from jobs.optimizer import MAX_CHARS, OptimizeRefused, Result, facts, optimize
from tests.optimizer.checks import assert_well_optimized, parse

CLOSING = "End the job: confirm the next step with the caller and thank them."


def steps_of(text: str, trigger: str = "") -> list[str]:
    return [step for step, _subs in parse(optimize(text, trigger=trigger).text)[1]]


def test_prose_becomes_numbered_steps_with_one_action_each():
    result = optimize("Greet the caller and ask what they need. Then take a message.")
    assert result.text == (
        f'1. Greet the caller.\n2. Ask: "What do you need?"\n3. Take a message.\n4. {CLOSING}'
    )
    assert isinstance(result, Result)
    assert result.backend == "builtin" and result.notice == ""
    assert "Wrote the instructions as 4 numbered steps, one action each." in result.changes


def test_trigger_is_stated_first_as_caller_intent():
    text = optimize("Take a message.", trigger="Caller wants to leave a message").text
    assert text.startswith("Caller intent: Caller wants to leave a message\n\n1. Take a message.")


def test_a_goal_line_in_the_text_becomes_the_caller_intent():
    text = optimize(
        "Goal: book a cleaning\nAsk for a date.", trigger="ignored when a goal is given"
    ).text
    assert text.split("\n")[0] == "Caller intent: book a cleaning"
    assert "Goal:" not in text


@pytest.mark.parametrize(
    ("hedged", "direct"),
    [
        ("You should probably try to ask about the budget.", 'Ask: "What is your budget?"'),
        ("Maybe offer a callback.", "Offer a callback."),
        ("It would be good to mention the warranty.", "Mention the warranty."),
        ("Please try to confirm the address.", "Confirm the address."),
        ("I think you might want to read the order back.", "Read the order back."),
    ],
)
def test_hedges_become_direct_imperatives(hedged, direct):
    assert steps_of(hedged)[0] == direct


@pytest.mark.parametrize(
    ("loose", "explicit"),
    [
        ("ask them their name", ['Ask: "What is your name?"']),
        (
            "Collect their name, phone number and email.",
            [
                'Ask: "What is your name?"',
                'Ask: "What is the best phone number to reach you?"',
                'Ask: "What is your email address?"',
            ],
        ),
        ("Ask if they have pets.", ['Ask: "Do you have pets?"']),
        ("Ask whether they'd like a quote.", ['Ask: "Would you like a quote?"']),
        ("Ask what their budget is.", ['Ask: "What is your budget?"']),
        ("Ask which day works best for them.", ['Ask: "Which day works best for you?"']),
        ("Ask them for their vehicle model.", ["Ask the caller for their vehicle model."]),
    ],
)
def test_questions_are_made_explicit(loose, explicit):
    assert steps_of(loose)[: len(explicit)] == explicit


def test_a_sub_case_stays_with_its_step_as_a_sub_bullet():
    text = optimize(
        "Ask for a callback number. If the caller refuses, take a message instead."
    ).text
    assert text.startswith(
        'Ask: "What is the best phone number to reach you?"\n'
        "   - If the caller refuses, take a message instead.\n",
        len("1. "),
    )


def test_bullets_under_a_heading_stay_under_it():
    text = optimize("Collect the following:\n- name\n- order number\nThank them.").text
    assert text == "1. Collect the following:\n   - Name.\n   - Order number.\n2. Thank them."


def test_repeated_sentences_are_removed_once():
    result = optimize("Confirm the address. Confirm the address. confirm the address")
    assert result.text == f"1. Confirm the address.\n2. {CLOSING}"
    assert "Removed 2 repeated sentences." in result.changes


def test_a_closing_step_is_added_only_when_missing():
    assert steps_of("Take a message.")[-1] == CLOSING
    assert steps_of("Take a message. Say goodbye.")[-1] == "Say goodbye."
    assert steps_of("Transfer the call [[Transfer call: Maria Lopez]]")[-1].endswith("]]")


def test_action_markers_are_kept_character_for_character_and_never_split():
    marker = "[[Send SMS: Hi! Book at https://x.example.com/b. Or call +1 (555) 010-2000.]]"
    text = optimize(f"maybe send {marker} and then thank them").text
    assert f"1. Send {marker}\n" in text


def test_every_fact_is_kept():
    source = (
        "Tell them it is $49.99 (or 20% off) until 5:30 PM, call +1 (555) 010-2000 or "
        "+15550102000, email help@acme.example.com, see https://acme.example.com/p?q=1 and "
        'ask for "Dana".'
    )
    assert_well_optimized(source, optimize(source).text)


def test_falls_back_to_the_original_sentences_when_the_rewrite_would_lose_a_fact():
    # Dropping "maybe" would glue "555 0100" and "2" into one phone number, losing both facts.
    source = "Call 555 0100 maybe 2 times."
    result = optimize(source)
    assert facts(source) <= facts(result.text)
    assert "1. Call 555 0100 maybe 2 times." in result.text
    assert result.changes == [
        "Kept the original sentences word for word: the full rewrite would have lost a fact."
    ]
    assert optimize(result.text).already_optimized


def test_already_optimized_text_is_returned_unchanged():
    once = optimize("Ask for their name. Maybe offer a callback.", trigger="Caller wants help")
    twice = optimize(once.text, trigger="Caller wants help")
    assert twice == Result(
        text=once.text,
        changes=["Already optimized: nothing to change."],
        already_optimized=True,
        backend="builtin",
        notice="",
    )


def test_windows_line_endings_and_trailing_spaces_do_not_count_as_changes():
    text = optimize("Take a message.").text
    assert optimize(text.replace("\n", "  \r\n") + "\n\n").already_optimized


@pytest.mark.parametrize("blank", ["", "   ", "\n\t\n"])
def test_empty_instructions_are_refused(blank):
    with pytest.raises(ValueError, match="There are no instructions to optimize."):
        optimize(blank)


def test_a_result_over_the_limit_is_refused():
    # Numbering and full stops make 1,700 tiny sentences grow past the limit.
    source = " ".join(f"Do {n}" + "." for n in range(1, 1700))[:MAX_CHARS]
    assert len(source) <= MAX_CHARS
    with pytest.raises(OptimizeRefused, match="over the 10,000-character limit"):
        optimize(source)


def test_ten_thousand_characters_are_optimized_the_same_each_time():
    # Its speed (goal: under 50 ms) is measured by bench/optimizer.py, not by a timed test.
    sentence = (
        "You should probably ask them their name and phone number, then tell them the "
        "visit is ${n}.99 and we open at 9am. "
    )
    source = "".join(sentence.replace("{n}", str(n)) for n in range(200))[:MAX_CHARS]
    first, second = optimize(source), optimize(source)
    assert first == second
    assert "$87.99" in first.text and "9am" in first.text


def test_the_result_is_frozen():
    result = optimize("Take a message.")
    with pytest.raises(AttributeError):
        result.text = "changed"
