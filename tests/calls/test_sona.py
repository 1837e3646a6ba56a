"""calls/sona.py: how a mock call shows a job's steps, questions and actions (never sent)."""

from calls import sona

NUMBERS = {"+15555550123": "Main line", "+15555550124": "Front desk"}


def test_numbered_bulleted_and_plain_lines_are_steps():
    text = (
        "Caller intent: wants a table.\n\n"
        "1. Greet the caller.\n"
        "2) Ask for the date.\n"
        "- Check the calendar.\n"
        "* Confirm.\n"
        "Say goodbye."
    )
    assert [(s.number, s.text) for s in sona.steps(text)] == [
        (1, "Greet the caller."),
        (2, "Ask for the date."),
        (3, "Check the calendar."),
        (4, "Confirm."),
        (5, "Say goodbye."),
    ]


def test_indented_sub_bullets_stay_with_their_step():
    text = "1. Ask how many people.\n   - If more than 8, offer the private room.\n   - If 1, offer the bar.\n2. End."
    assert [s.text for s in sona.steps(text)] == [
        "Ask how many people. If more than 8, offer the private room. If 1, offer the bar.",
        "End.",
    ]


def test_markers_become_words_in_steps():
    [step] = sona.steps("1. [[Send SMS: See you soon.]]")
    assert step.text == "Send the caller an SMS: “See you soon.”"


def test_empty_instructions_have_no_steps():
    assert sona.steps("") == [] and sona.steps(None) == [] and sona.questions("") == []


def test_questions_quoted_written_and_ask_for():
    text = (
        '1. Say "What can I do for you today?"\n'
        "2. Is it urgent? Then act.\n"
        "3. Ask the caller for their name and phone number.\n"
        '4. Say "What can I do for you today?" again.'
    )
    assert sona.questions(text) == [
        "What can I do for you today?",
        "Is it urgent?",
        "Ask for their name and phone number",
    ]


def test_questions_ignore_markers():
    assert sona.questions("1. [[Send SMS: Are you coming?]]") == []


def test_sms_action_shows_its_text_not_sent():
    [action] = sona.shown_actions(
        "1. [[Send SMS: We are open 9 to 5. | say: I'll text you the hours.]]",
        numbers=NUMBERS,
        region="US",
    )
    assert action == sona.ShownAction(
        "send_sms", "Send SMS to the caller", "We are open 9 to 5.", "I'll text you the hours."
    )
    assert action.status == "not sent"


def test_transfer_to_a_workspace_number_names_it():
    [action] = sona.shown_actions(
        "[[Transfer call: number (555) 555-0123 | say: Putting you through.]]",
        numbers=NUMBERS,
        region="US",
    )
    assert action.label == "Transfer call to Main line (+15555550123)"
    assert (action.detail, action.say) == ("", "Putting you through.")
    assert action.status == sona.NOT_SENT == "not sent"


def test_transfer_to_a_member_and_an_external_number():
    member, external = sona.shown_actions(
        "[[Transfer call: member bob@example.test]]\n[[Transfer call: external +44 20 7946 0958]]",
        numbers=NUMBERS,
        region="US",
    )
    assert (member.label, member.detail) == ("Transfer call to member bob@example.test", "")
    assert external.label == "Transfer call to +442079460958"


def test_a_malformed_number_is_shown_as_written():
    [action] = sona.shown_actions("[[Transfer call: external 12]]", numbers=NUMBERS, region="US")
    assert action.label == "Transfer call to 12"


def test_walkthrough_puts_it_together():
    walk = sona.walkthrough(
        '1. Ask: "Which day?"\n2. [[Send SMS: Booked.]]', numbers=NUMBERS, region="US"
    )
    assert [s.text for s in walk.steps] == [
        'Ask: "Which day?"',
        "Send the caller an SMS: “Booked.”",
    ]
    assert walk.questions == ("Which day?",)
    assert [a.type for a in walk.actions] == ["send_sms"]
