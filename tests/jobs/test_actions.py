"""The one marker grammar (jobs/actions.py): parse, problems, and the optimizer using it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs import actions
from jobs.actions import Action, Context, find_problems, marker, parse
from jobs.optimizer.facts import facts

CONTEXT = Context(
    emails=frozenset({"rosa@example.test"}), numbers=frozenset({"+15555550100"}), region="US"
)

# Text a marker can hold: one line, no brackets or pipes (those end or split a marker).
_words = (
    st.text(
        st.characters(
            codec="utf-8",
            exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
            exclude_characters="[]|",
            include_characters=" ",
        ),
        min_size=1,
        max_size=80,
    )
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)
_sms = _words.filter(lambda t: len(t) <= actions.SMS_MAX and not t.lower().startswith("say"))
_say = st.none() | _words
_email = st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.(test|com)", fullmatch=True)
_phone = st.sampled_from(["+15555550100", "+442079460958", "(555) 555-0199"])


@st.composite
def well_formed(draw) -> Action:
    say = draw(_say)
    kind = draw(st.sampled_from(["sms", "member", "number", "external"]))
    if kind == "sms":
        return Action("", "send_sms", message=draw(_sms), say=say)
    target = draw(_email) if kind == "member" else draw(_phone)
    return Action("", "transfer_call", to=kind, target=target, say=say)


@given(st.lists(well_formed(), min_size=1, max_size=4), st.sampled_from([" ", "\n", " then "]))
def test_well_formed_markers_round_trip(wanted, glue):
    text = "Start." + glue + glue.join(marker(a) for a in wanted) + glue + "Done."
    found = parse(text)
    strip = [(a.type, a.message, a.to, a.target, a.say) for a in found]
    assert strip == [(a.type, a.message, a.to, a.target, a.say) for a in wanted]
    assert [a.marker for a in found] == [marker(a) for a in wanted]
    assert find_problems(text, context=None) == []
    # The optimizer keeps exactly these markers as facts (one grammar).
    assert {v for k, v in facts(text) if k == "action"} == {marker(a) for a in wanted}


def test_forms_with_say_and_loose_spacing():
    text = (
        "[[Send SMS: Book at https://x.test/b | say: I'll text you the link]] "
        "[[transfer call:   member Rosa@Example.test|say:One moment]] "
        "[[Transfer call: external +44 20 7946 0958]]"
    )
    sms, member, external = parse(text)
    assert (sms.type, sms.message, sms.say) == (
        "send_sms",
        "Book at https://x.test/b",
        "I'll text you the link",
    )
    assert (member.to, member.target, member.say) == ("member", "Rosa@Example.test", "One moment")
    assert member.runtime() == {
        "type": "transfer_call",
        "to": "member",
        "member": "rosa@example.test",
        "number": None,
        "say": "One moment",
    }
    assert external.runtime(region="US")["number"] == "+442079460958"
    assert find_problems(text, context=CONTEXT) == []


@pytest.mark.parametrize(
    ("text", "quoted", "words"),
    [
        ("Then [[Send SMS: hi", "[[Send SMS: hi", "not closed"),
        ("[[Send SMS hi]]", "[[Send SMS hi]]", "not an action"),
        ("[[Send SMS:   ]]", "[[Send SMS:   ]]", "write the message"),
        (f"[[Send SMS: {'x' * 321}]]", f"[[Send SMS: {'x' * 321}]]", "at most 320"),
        ("[[Transfer call: Maria Lopez]]", "[[Transfer call: Maria Lopez]]", "whom to transfer"),
        ("[[Transfer call: member]]", "[[Transfer call: member]]", "whom to transfer"),
        ("[[Transfer: member a@b.test]]", "[[Transfer: member a@b.test]]", "not an action"),
        ("[[Transfer call: member rosa]]", "[[Transfer call: member rosa]]", "not an email"),
        ("[[Send SMS: hi | say: ]]", "[[Send SMS: hi | say: ]]", "after “| say:”"),
        ("[[Send SMS: a | say: b | say: c]]", "[[Send SMS: a | say: b | say: c]]", "at most once"),
        ("[[Send SMS: a [[b]]", "[[Send SMS: a [[b]]", "cannot contain"),
        ("[[Caller name]]", "[[Caller name]]", "not an action"),
        ("[[Send SMS: hi\n]]", "[[Send SMS: hi", "not closed"),
    ],
)
def test_malformed_markers_are_problems_quoting_them(text, quoted, words):
    (problem,) = find_problems(text, context=None)
    assert problem.marker == quoted and words in problem.message
    assert str(problem).startswith(f"“{quoted}”")
    assert parse(text) == []


def test_unclosed_marker_quote_is_cut():
    (problem,) = find_problems("[[Send SMS: " + "y" * 200, context=None)
    assert problem.marker.endswith("…") and len(problem.marker) == 81


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[Transfer call: member nobody@example.test]]", "no member of this workspace"),
        ("[[Transfer call: number +15555550199]]", "+15555550199 is not one of this workspace"),
        ("[[Transfer call: number (555) 555-0199]]", "+15555550199 is not one of this workspace"),
        ("[[Transfer call: external 12]]", "is not a phone number"),
        ("[[Transfer call: external +1 555 0100 ext. 4]]", "extension"),
    ],
)
def test_targets_are_checked_against_the_workspace(text, words):
    (problem,) = find_problems(text, context=CONTEXT)
    assert problem.marker == text and words in problem.message
    assert find_problems(text, context=None) == []  # the form alone is fine


def test_targets_that_exist_are_fine():
    text = (
        "[[Transfer call: member ROSA@example.test]] [[Transfer call: number (555) 555-0100]] "
        "[[Transfer call: external 020 7946 0958]]"
    )
    assert find_problems(text.replace("020 7946 0958", "+442079460958"), context=CONTEXT) == []
    # National formats are read in the workspace's country: in GB "(555) 555-0100" is none.
    gb = Context(CONTEXT.emails, CONTEXT.numbers, "GB")
    assert [p.marker for p in find_problems(text, context=gb)] == [
        "[[Transfer call: number (555) 555-0100]]"
    ]


def test_plain_text_has_no_markers():
    assert not actions.has_markers("Ask for [the name] and ]] stray closers.")
    assert parse("Ask for [the name].") == [] and find_problems("a ] b", context=CONTEXT) == []
