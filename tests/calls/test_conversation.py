"""Test Sona as a conversation: what Sona says offline for each decision (from the job's own
words, the knowledge, the router's question or the attached jobs' names), the panel of the
current turn, the stored mock call's summary and transcript, and a caller played by an LLM
against a real local chat-completions server (tests/fake_llm.py)."""

import json
import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError

from callflows import services as cf
from calls import services, sona
from calls.models import Call
from calls.selectors import mock
from jobs import services as js
from knowledge import services as ks
from tests.fake_llm import serving

from .conftest import CLINIC_SAYS, SAYS
from .fake_router import QUESTION

pytestmark = pytest.mark.django_db

HOURS_PAGE = "We are open Monday to Friday, 8 am to 6 pm. We close on public holidays."
MESSAGE_JOB = {
    "name": "Take a message",
    "trigger": "Caller wants to leave a message for someone who is unavailable",
    "instructions": "Goal: the caller wants to leave a message.\n\n"
    '1. Ask: "Who is the message for?"\n'
    "2. Tell the caller that someone will call them back and that you will pass it on.",
}


def replies(goal, *said) -> list[str]:
    return [t.reply for t in mock.mock_turns(goal, list(said))]


@pytest.fixture
def hours_page(line):
    """A knowledge page on opening hours, attached to the line's Sona step."""
    page = ks.knowledge_page_create(
        workspace=line.workspace, user=line.owner, title="Opening hours", body=HOURS_PAGE
    )
    cf.step_attach_knowledge(step=line.sona, page=page, user=line.owner)
    return page


# What Sona says offline, decision by decision ----------------------------------------------


def test_a_job_says_its_question_steps_one_turn_after_another(line):
    goal = mock.target(call_flow=line.flow)
    assert replies(goal, SAYS["booking"], "on Friday at eight") == [
        "Could you tell me the date and time you want?",  # "Ask for the date and time they want"
        "How many people are coming?",  # 'Ask: "How many people are coming?"'
    ]


def test_a_statement_step_is_the_knowledge_sentence_that_answers_it(line, hours_page):
    goal = mock.target(call_flow=line.flow)
    # "Tell the caller the opening hours." with a page on opening hours attached.
    assert replies(goal, "I would like to know your opening hours") == [
        "From “Opening hours”: “We are open Monday to Friday, 8 am to 6 pm.”"
    ]


def test_a_statement_step_without_knowledge_is_the_step_itself(line):
    goal = mock.target(call_flow=line.flow)
    assert replies(goal, "I would like to know your opening hours") == [
        "(Tell the caller the opening hours.)"  # what Sona does: nothing is invented
    ]


def test_the_callers_question_is_answered_from_the_knowledge_once(line, hours_page):
    goal = mock.target(call_flow=line.flow)
    [reply] = replies(goal, "When are you open?")
    assert reply == "From “Opening hours”: “We are open Monday to Friday, 8 am to 6 pm.”"


def test_a_question_the_knowledge_does_not_answer_gets_the_job_only(line, hours_page):
    goal = mock.target(call_flow=line.flow)
    [reply] = replies(goal, "Can I book a table for two?")
    assert reply == "Could you tell me the date and time you want?"


def test_a_goal_line_is_not_said_and_tell_the_caller_that_is_said_to_them(line):
    job = js.job_create(workspace=line.workspace, user=line.owner, data=MESSAGE_JOB)
    cf.step_attach_job(step=line.sona, job=job, user=line.owner)
    goal = mock.target(call_flow=line.flow)
    turns = mock.mock_turns(goal, [CLINIC_SAYS["message"], "It is for Dr Smith"])
    assert [t.job.name for t in turns] == ["Take a message", "Take a message"]
    assert [t.at_step for t in turns] == [2, 3]  # step 1 is the job's "Goal:" line
    assert [t.reply for t in turns] == [
        "Who is the message for?",
        "Someone will call you back and I will pass it on.",
    ]


def test_a_clarify_says_the_routers_question(clinic, fake_router):
    goal = mock.target(call_flow=clinic.flow)
    assert replies(goal, "I want an appointment") == [QUESTION]


def test_no_job_names_the_jobs_and_offers_a_message(clinic):
    goal = mock.target(call_flow=clinic.flow)
    assert replies(goal, CLINIC_SAYS["none"]) == [
        "I can help with: Book an appointment, Reschedule or cancel, Take a message. "
        "Would you like to leave a message?"
    ]


def test_no_job_without_a_message_job_offers_none(clinic):
    cf.step_detach_job(step=clinic.sona, job=clinic.message, user=clinic.owner)
    goal = mock.target(call_flow=clinic.flow)
    assert replies(goal, CLINIC_SAYS["none"]) == [
        "I can help with: Book an appointment, Reschedule or cancel."
    ]


@pytest.mark.parametrize(
    ("step", "said"),
    [
        ('Ask: "How many people are coming?" If more than 8, offer the private room.',
         "How many people are coming?"),
        ("Ask what day suits them.", "Could you tell me what day suits you?"),
        ("Ask for their name and date of birth.",
         "Could you tell me your name and date of birth?"),
        ("Tell the caller that the business is closed, and give the opening hours.",
         "The business is closed."),
        ("Tell the caller that they will get a text and that you will call back.",
         "You will get a text and I will call back."),
        ("Transfer the call to +15555550124 (saying “Putting you through now.” first)",
         "Putting you through now."),
        ("Send the caller an SMS: “See you Friday.”", "(Send the caller an SMS: “See you Friday.”)"),
        ("Offer the next two free times.", "(Offer the next two free times.)"),
    ],
)  # fmt: skip
def test_spoken_step_rules(step, said):
    assert sona.spoken_step(sona.Step(1, step)) == said


# The page: bubbles, and the panel of the current turn only ------------------------------------


def url(line):
    return f"/numbers/{line.phone.pk}/steps/{line.sona.pk}/test/"


def bubbles(response) -> list[tuple[str, str]]:
    found = re.findall(
        r'<p class="bubble (caller|sona)"[^>]*>.*?</span></span>\s*(.*?)</p>',
        response.content.decode(),
        re.S,
    )
    return [(speaker, unescape(words).strip()) for speaker, words in found]


def panel(response) -> str:
    html = response.content.decode()
    found = re.search(r'<aside id="turn-panel".*?</aside>', html, re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", found.group()))).strip()


def test_the_panel_explains_the_current_turn_only(owner_client, line):
    page = owner_client.post(
        url(line), {"turn": [SAYS["booking"]], "said": SAYS["manager"], "version": "draft"}
    )
    assert bubbles(page) == [
        ("caller", SAYS["booking"]),
        ("sona", "Could you tell me the date and time you want?"),
        ("caller", SAYS["manager"]),
        ("sona", "(Apologise and listen.)"),
    ]
    shown = panel(page)
    assert shown.startswith("Turn 2: what Sona decided Sona picked Complaint")
    assert re.search(r"Complaint (Sure|Likely|Unsure)", shown)
    assert "Runner-up: " in shown and "Why: " in shown
    assert (
        "would transfer to Front desk (+1 555-555-0124) — not sent "
        "Sona says first: “Let me put you through to the desk.”"
    ) in shown
    assert "Steps of “Complaint” Apologise and listen. Sona is here Transfer the call" in shown
    html = page.content.decode()
    assert html.count('class="job-steps"') == 1  # the first turn's job is not printed again
    assert "Steps of “Book a table”" not in html and "How many people" not in html
    assert html.count('aria-current="step"') == 1


def test_the_panel_of_an_sms_job_says_not_sent(owner_client, line):
    page = owner_client.post(url(line), {"turn": [SAYS["hours"]], "said": "yes please"})
    assert "would send SMS — not sent “We are open 9 to 5 every day.”" in panel(page)
    assert bubbles(page)[-1] == (
        "sona",
        "(Send the caller an SMS: “We are open 9 to 5 every day.”)",
    )


# The stored mock call ----------------------------------------------------------------------


def test_the_stored_call_names_each_turns_job_and_keeps_what_sona_said(line, hours_page):
    job = js.job_create(workspace=line.workspace, user=line.owner, data=MESSAGE_JOB)
    cf.step_attach_job(step=line.sona, job=job, user=line.owner)
    said = [SAYS["booking"], "on Friday at eight", CLINIC_SAYS["message"]]
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=said)
    assert call.job == job
    assert f"Turn 1: the caller said “{said[0]}”. Sona picked “Book a table” (" in call.summary
    assert "Turn 2:" not in call.summary  # it continued the same job
    assert f"Turn 3: the caller said “{said[2]}”. Sona picked “Take a message” (" in (call.summary)
    lines = call.transcript.splitlines()
    assert lines[0] == f"Caller: {said[0]}"
    assert re.fullmatch(
        r"Sona \[Book a table, \w+\]: Could you tell me the date and time you want\?", lines[1]
    )
    assert lines[3].endswith("]: How many people are coming?")
    assert lines[5].endswith("]: Who is the message for?")
    assert "Goal:" not in call.transcript


# A simulated caller (the LLM plays the caller) -------------------------------------------------

PERSONA = "in a hurry, gives a name when asked"
GOAL = "wants to book a table for two on Friday"


def is_caller(request) -> bool:
    return request["messages"][0]["content"].startswith("You play a person phoning")


@pytest.fixture
def llm(settings):
    with serving("I want to book a table for two") as server:
        settings.ROUTER_BACKEND = "llm"
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_TIMEOUT = 5
        yield server


def caller_requests(server) -> list[dict]:
    return [r["json"] for r in server.requests if is_caller(r["json"])]


def test_the_ai_caller_plays_up_to_eight_turns(line, llm):
    goal = mock.target(call_flow=line.flow)
    result = mock.simulated_call(goal, persona=PERSONA, caller_goal=GOAL)
    assert len(result.turns) == 8 and not result.ended_by_caller and result.notice == ""
    assert [t.said for t in result.turns] == ["I want to book a table for two"] * 8
    asked = caller_requests(llm)
    assert len(asked) == 8
    assert PERSONA in asked[0]["messages"][0]["content"]
    assert GOAL in asked[0]["messages"][0]["content"]
    # Each caller line is written from the conversation so far: Sona's replies included.
    last = asked[-1]["messages"]
    assert [m["role"] for m in last[1:4]] == ["user", "assistant", "user"]
    assert len(last) == 1 + 1 + 2 * 7


def test_the_ai_caller_ends_early_with_the_end_token(line, llm):
    lines = iter(["I want to book a table for two", "It's Sam, for Friday at 8", "[END]"])

    def respond(request):
        if is_caller(request):
            return next(lines)
        if request.get("response_format"):  # the router: a job, as JSON
            return json.dumps({"decision": "job", "job_id": line.booking.pk, "confidence": "Sure"})
        return "Of course. For how many people?"  # Sona's reply

    llm.respond = respond
    goal = mock.target(call_flow=line.flow)
    result = mock.simulated_call(goal, persona=PERSONA, caller_goal=GOAL)
    assert [t.said for t in result.turns] == [
        "I want to book a table for two",
        "It's Sam, for Friday at 8",
    ]
    assert result.ended_by_caller and result.notice == ""
    assert [t.reply for t in result.turns] == ["Of course. For how many people?"] * 2
    assert [t.job.name for t in result.turns] == ["Book a table", "Book a table"]
    assert len(caller_requests(llm)) == 3


def test_a_failing_ai_caller_stops_the_call_with_a_notice(line, llm):
    said = []

    def respond(request):
        if is_caller(request):
            said.append(1)
            return "I want to book a table for two" if len(said) == 1 else None  # then HTTP 500
        return "Sure."

    llm.respond = respond
    goal = mock.target(call_flow=line.flow)
    result = mock.simulated_call(goal, persona=PERSONA, caller_goal=GOAL)
    assert len(result.turns) == 1
    assert result.notice == (
        "The AI caller was unavailable (the endpoint answered HTTP 500); the call stops here."
    )


def test_an_ai_caller_that_fails_at_once_is_an_error(line, llm):
    llm.status = 500
    goal = mock.target(call_flow=line.flow)
    with pytest.raises(ValidationError, match="The AI caller was unavailable"):
        mock.simulated_call(goal, persona=PERSONA, caller_goal=GOAL)


def test_a_simulated_call_page_can_be_ended_and_stored(owner_client, line, llm):
    page = owner_client.post(
        url(line), {"simulate": "1", "persona": PERSONA, "caller_goal": GOAL, "version": "draft"}
    )
    assert page.status_code == 200
    said = [s for speaker, s in bubbles(page) if speaker == "caller"]
    assert said == ["I want to book a table for two"] * 8
    html = page.content.decode()
    assert html.count('name="reply"') == 8 and ">End call</button>" in html
    assert "Simulate a caller" not in html  # a call is under way
    assert not Call.objects.exists()
    replies_sent = re.findall(r'name="reply" value="([^"]*)"', html)
    response = owner_client.post(
        url(line), {"turn": said, "reply": [unescape(r) for r in replies_sent], "end": "1"}
    )
    call = Call.objects.get()
    assert response.status_code == 302 and call.source == "mock"
    assert call.transcript.count("Caller: I want to book a table for two") == 8


@pytest.mark.parametrize(
    ("persona", "caller_goal", "message"),
    [
        ("", GOAL, "Persona is empty"),
        (PERSONA, "   ", "Caller&#x27;s goal is empty"),
        (PERSONA, "x" * 501, "Caller&#x27;s goal can be at most 500 characters (it has 501)"),
        ("x" * 301, GOAL, "Persona can be at most 300 characters (it has 301)"),
    ],
)
def test_bad_simulation_input_is_refused_and_nothing_changes(
    owner_client, line, llm, persona, caller_goal, message
):
    page = owner_client.post(
        url(line), {"simulate": "1", "persona": persona, "caller_goal": caller_goal}
    )
    html = page.content.decode()
    assert message in html and 'aria-invalid="true"' in html
    assert 'class="turn"' not in html and not Call.objects.exists()
    assert llm.requests == []  # the LLM was never asked


def test_without_an_llm_the_button_is_disabled_and_says_what_it_needs(owner_client, line):
    page = owner_client.get(url(line))
    html = page.content.decode()
    assert "Set LLM_BASE_URL and ROUTER_BACKEND=llm to let an AI play the caller." in html
    assert "<fieldset disabled>" in html
    page = owner_client.post(url(line), {"simulate": "1", "persona": PERSONA, "caller_goal": GOAL})
    assert "Set LLM_BASE_URL and ROUTER_BACKEND=llm" in page.content.decode()
    assert 'class="turn"' not in page.content.decode()
