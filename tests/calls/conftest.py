"""A restaurant's Main line with three jobs on its Sona step, built through the services.

The phrases below are chosen so that any sensible router picks the same job (they share the
job's own words). Tests do not pin the router's scores or `why`: they compare with what
`router_says` (the router itself, on the same step) answers."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from callflows import live as live_module
from callflows import services as cf
from calls import routing, runtime
from calls.routing import Candidate, corpus
from calls.selectors import mock
from jobs import services as js
from knowledge import services as ks

BOOKING = {
    "name": "Book a table",
    "trigger": "Caller wants to book a table for dinner",
    "description": "Reservations.",
    "instructions": (
        "1. Ask for the date and time they want.\n"
        '2. Ask: "How many people are coming?"\n'
        "   - If more than 8, offer the private room.\n"
        "3. Confirm the booking and end the call."
    ),
}
HOURS = {
    "name": "Opening hours",
    "trigger": "Caller asks when the restaurant is open",
    "instructions": (
        "1. Tell the caller the opening hours.\n"
        "2. [[Send SMS: We are open 9 to 5 every day.]]\n"
        "3. End the call."
    ),
}
MANAGER = {
    "name": "Complaint",
    "trigger": "Caller is unhappy and wants to speak to a manager",
    "instructions": (
        "1. Apologise and listen.\n"
        "2. [[Transfer call: number +15555550124 | say: Let me put you through to the desk.]]"
    ),
}
SAYS = {  # what a caller says -> the job it means
    "booking": "I want to book a table for two",
    "hours": "When are you open",
    "manager": "I want to speak to a manager",
    "nothing": "Hello there",
    "off_topic": "what's the weather on Mars",  # no job of the line is about it
}


def router_says(call_flow, said, *, version="draft", step_key="", history=(), current=None):
    """The router's own decision for `said` on a step of the draft or the live version (the
    candidates a mock call or POST /route would pass it, test cases included as examples)."""
    call_flow.refresh_from_db()
    goal = mock.target(call_flow=call_flow, version=version, step_key=step_key)
    return routing.route(goal.candidates, said, history, current)


@pytest.fixture(autouse=True)
def fresh_runtime():
    """No answer of an earlier test is served from a process cache."""
    cache.clear()
    live_module._bodies.clear()
    runtime._indexes.clear()
    yield
    runtime._indexes.clear()
    live_module._bodies.clear()


@pytest.fixture
def desk(workspace, owner, phone):
    """A second number of the workspace, so a job can transfer to it."""
    return cf.phone_number_create(
        workspace=workspace, number="+15555550124", display_name="Front desk", user=owner
    )


@pytest.fixture
def line(workspace, owner, phone, sona, desk):
    """Main line (SMS registered) with Booking, Hours and Manager attached to its Sona step,
    and a knowledge page; nothing published yet."""
    cf.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    w = SimpleNamespace(workspace=workspace, owner=owner, phone=phone, flow=phone.call_flow)
    w.sona = sona
    w.booking = js.job_create(workspace=workspace, user=owner, data=BOOKING)
    w.hours = js.job_create(workspace=workspace, user=owner, data=HOURS)
    w.manager = js.job_create(workspace=workspace, user=owner, data=MANAGER)
    for job in (w.booking, w.hours, w.manager):
        cf.step_attach_job(step=sona, job=job, user=owner)
    w.page = ks.knowledge_page_create(
        workspace=workspace,
        user=owner,
        title="Parking",
        body="Free parking behind the restaurant.\n\nThe terrace is open in summer.",
    )
    cf.step_attach_knowledge(step=sona, page=w.page, user=owner)
    w.phone.refresh_from_db()
    return w


@pytest.fixture
def published(line):
    """The line with its draft published as version 1."""
    line.v1 = cf.callflow_publish(call_flow=line.flow, user=line.owner)
    line.flow.refresh_from_db()
    return line


ROUTING_DATA = corpus.ROOT / "bench" / "data"
# The shared routing corpus as copied into bench/data/routing_shared: the suite needs nothing
# outside the checkout.
SHARED_ROUTING = corpus.routing_dir(bundled=True)


def shared_corpus():
    return corpus.load(*sorted(SHARED_ROUTING.glob("*.json")))


def heldout_corpus():
    return corpus.load(ROUTING_DATA / "routing_heldout.json")


GYM = (
    Candidate(
        1, "Membership sign-up", "Caller wants to join the gym or asks about membership options"
    ),
    Candidate(
        2, "Cancel or freeze membership", "Member wants to cancel, pause or freeze their membership"
    ),
    Candidate(3, "Class schedule", "Caller asks about classes, times or booking a class"),
    Candidate(4, "Personal training", "Caller asks about a personal trainer"),
    Candidate(5, "Lost and found", "Caller lost something at the gym"),
)


@pytest.fixture
def gym():
    return GYM


# A clinic's step where the test controls the jobs: the three decisions end to end ------------

CLINIC = {
    "book": {
        "name": "Book an appointment",
        "trigger": "Caller wants to book a new appointment",
        "instructions": "1. Ask what day suits them.\n2. Confirm the time and end the call.",
    },
    "change": {
        "name": "Reschedule or cancel",
        "trigger": "Caller wants to move or cancel an existing appointment",
        "instructions": "1. Ask for the name on the booking.\n2. Move or cancel it.",
    },
    "message": {
        "name": "Take a message",
        "trigger": "Caller wants to leave a message for someone who is unavailable",
        "instructions": "1. Ask who the message is for.\n2. Take the message and end the call.",
    },
}
CLINIC_SAYS = {  # clear-cut for any sensible router
    "change": "I need to cancel my appointment",
    "message": "Can I leave a message for Dr Smith",
    "none": "is this the pizza place? I want a large pepperoni",
}


@pytest.fixture
def clinic(workspace, owner, phone, sona):
    """Main line's Sona step with Book an appointment, Reschedule or cancel and Take a
    message attached (the draft; `clinic_live` publishes it)."""
    w = SimpleNamespace(workspace=workspace, owner=owner, phone=phone, flow=phone.call_flow)
    w.sona = sona
    for key, data in CLINIC.items():
        setattr(w, key, js.job_create(workspace=workspace, user=owner, data=data))
        cf.step_attach_job(step=sona, job=getattr(w, key), user=owner)
    w.phone.refresh_from_db()
    return w


@pytest.fixture
def clinic_live(clinic):
    cf.callflow_publish(call_flow=clinic.flow, user=clinic.owner)
    clinic.flow.refresh_from_db()
    return clinic


@pytest.fixture
def fake_router(settings):
    """Every router call answered by tests/calls/fake_router.py (all three decisions on cue)."""
    from . import fake_router as module

    settings.ROUTER_BACKEND = "tests.calls.fake_router.FakeRouter"
    module.CALLS.clear()
    return module


def save_case(*, call_flow, user, step_key, said, job, expected_action=""):
    """A test case, as the old `test_case_save` took it: a one-turn scenario named like the
    sentence, expecting `job` (None: no job) [and the action]."""
    from calls import services

    expect = {"job": job.name if job is not None else None}
    if expected_action:
        expect["actions"] = [expected_action]
    return services.scenario_create(
        call_flow=call_flow,
        user=user,
        step_key=step_key,
        name=said,
        turns=[said],
        expect=expect,
    )
