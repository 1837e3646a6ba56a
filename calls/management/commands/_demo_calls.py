"""The demo's call history: four weeks of realistic calls on the demo number, deterministic.

Built once at demo time (idempotent: nothing is added when the demo's calls exist). A seeded
random.Random draws the calls day by day, so the same day gives the same calls. The jobs' history
is dated before the calls, and "Reschedule or cancel" is edited (through jobs.services) part-way,
its history row dated then: the job page's "since your last edit" and the chart's edit mark show
something, and the edit visibly helps (fewer callers hang up).
"""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from calls import rollups
from calls.models import Call, Outcome, Source
from jobs.models import Job
from jobs.services import job_update

SEED = 11
DAYS = 28
EXTERNAL_PREFIX = "demo-"
JOBS_DAYS_AGO = 35  # the jobs' first versions, before the first call
EDITED_JOB = "Reschedule or cancel"
EDIT_DAYS_AGO = 12
EDITED_INSTRUCTIONS = (
    "1. Ask for their name and date of birth.\n"
    '2. Ask: "Which appointment would you like to change?"\n'
    "3. Offer the next two free times straight away; if neither suits, offer the first free "
    "time next week. Cancel it if they ask.\n"
    "4. Read the new time back to them.\n"
    "5. [[Send SMS: Your appointment at Demo Dental has been updated. Call (555) 555-0100 "
    "if anything changes.]]"
)
NAMES = (
    "Maria Lopez", "James Carter", "Aisha Khan", "Tom Becker", "Lena Novak", "Sam Okafor",
    "Priya Shah", "Daniel Kim", "Grace Miller", "Omar Haddad", "Chloe Martin", "Ben Walsh",
)  # fmt: skip
TRANSFER = ("transfer_call", "Transfer to +1 555 555 0199 (dentist on call)")
SMS = ("send_sms", "SMS: Your appointment at Demo Dental has been updated.")
# Per job: how often it is picked, what callers say, the summary, next steps, its usual outcome
# and its action.
SCENARIOS = {
    "Dental emergency": {
        "weight": 10,
        "says": (
            "my tooth is killing me and my cheek is swollen",
            "I chipped my front tooth playing football",
            "my gum has been bleeding since this morning",
        ),
        "summary": "{name} called about an urgent problem: “{said}”. No trouble breathing. "
        "Sona transferred the call to the dentist on call.",
        "next": ("Dentist on call to see {first} today",),
        "outcome": Outcome.TRANSFERRED,
        "action": TRANSFER,
        "action_fails": "No answer from +1 555 555 0199 after 30 seconds; a message was taken.",
    },
    "Reschedule or cancel": {
        "weight": 22,
        "says": (
            "can I move my cleaning to next week",
            "I need to cancel my appointment on Thursday",
            "something came up, can we change my check-up",
        ),
        "summary": "{name} asked to change an appointment: “{said}”. Sona offered the next "
        "free times and {first} took one; a confirmation SMS was sent.",
        "next": ("Update the calendar for {first}",),
        "outcome": Outcome.SMS_SENT,
        "action": SMS,
        "action_fails": "The carrier refused the SMS (the handset is unreachable).",
    },
    "Schedule an appointment": {
        "weight": 30,
        "says": (
            "I'd like to book a check-up and cleaning",
            "do you have anything on Saturday morning for a new patient",
            "I need an appointment for my son",
        ),
        "summary": "{name} wanted an appointment: “{said}”. Sona found a free time and booked it.",
        "next": ("Send the new-patient form to {first}",),
        "outcome": Outcome.RESOLVED,
        "action": None,
    },
    "Qualify a lead": {
        "weight": 10,
        "says": (
            "how much are Invisalign braces",
            "do you do teeth whitening for a wedding",
        ),
        "summary": "{name} asked about treatment: “{said}”. Sona asked about timing and budget "
        "and took their details for the treatment coordinator.",
        "next": ("Treatment coordinator to call {first} back within a day",),
        "outcome": Outcome.MESSAGE_TAKEN,
        "action": None,
    },
    "Answer after-hours calls": {
        "weight": 8,
        "says": (
            "are you open now",
            "I'll need to talk to someone tomorrow about my bill",
        ),
        "summary": "{name} called after hours: “{said}”. Sona gave the opening hours and took "
        "a message.",
        "next": ("Call {first} back when the practice opens",),
        "outcome": Outcome.MESSAGE_TAKEN,
        "action": None,
    },
}
NO_JOB_SAYS = ("is this the pizza place?", "do you sell gift cards", "I want to speak to Bob")


def _name_step(snapshot: dict, kind: str) -> dict | None:
    return next((s for s in snapshot["steps"] if s["kind"] == kind), None)


def _midnight() -> datetime:
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


def date_history(*, workspace, owner) -> None:
    """Demo build time only, right after the jobs are made: date their first versions before
    the calls, then edit one job (through the service) and date that version part-way."""
    history = Job.history.model
    midnight = _midnight()
    jobs = list(Job.objects.filter(workspace=workspace).order_by("pk"))
    for i, job in enumerate(jobs):
        made = midnight - timedelta(days=JOBS_DAYS_AGO) + timedelta(minutes=i)
        history.objects.filter(id=job.pk).update(history_date=made)
        # The job's own timestamps agree with its history ("Last changed" on its page); an
        # update() writes no history row, which is the point here.
        Job.objects.filter(pk=job.pk).update(created_at=made, updated_at=made)
    edited = next((j for j in jobs if j.name == EDITED_JOB), None)
    if edited is None:
        return
    edited = job_update(job=edited, user=owner, data={"instructions": EDITED_INSTRUCTIONS})
    latest = edited.history.order_by("-history_id").first()
    when = midnight - timedelta(days=EDIT_DAYS_AGO) + timedelta(hours=9, minutes=14)
    history.objects.filter(pk=latest.pk).update(history_date=when)
    Job.objects.filter(pk=edited.pk).update(updated_at=when)


def add_calls(*, workspace, phone) -> int:
    """Four weeks of calls before today, unless the demo's calls exist. Returns how many."""
    if Call.objects.filter(workspace=workspace, external_id__startswith=EXTERNAL_PREFIX).exists():
        return 0
    version = phone.call_flow.live_version
    if version is None:
        return 0
    sona = _name_step(version.snapshot, "sona")
    voicemail = _name_step(version.snapshot, "voicemail")
    jobs = {j.name: j for j in Job.objects.filter(pk__in=sona["jobs"])}
    versions = {
        job.pk: list(job.history.order_by("history_date", "history_id").values_list(
            "history_date", "history_id"
        ))
        for job in jobs.values()
    }  # fmt: skip
    picks = [(name, s["weight"]) for name, s in SCENARIOS.items() if name in jobs]
    rng = random.Random(SEED)  # noqa: S311 (demo data, deterministic on purpose)
    midnight = _midnight()
    calls = []
    for days_ago in range(DAYS, 0, -1):
        day = midnight - timedelta(days=days_ago)
        weekday = day.weekday()
        count = rng.randint(11, 17) if weekday < 5 else rng.randint(5, 8) if weekday == 5 else 2
        starts = sorted(
            day + timedelta(hours=rng.choice((7, *range(8, 18), 19)), minutes=rng.randint(0, 59))
            for _ in range(count)
        )
        for started in starts:
            call = _call(rng, started, sona, voicemail, jobs, versions, picks, weekday == 6)
            call.external_id = f"{EXTERNAL_PREFIX}{len(calls) + 1:05d}"
            call.workspace, call.phone_number, call.number = workspace, phone, phone.number
            call.version_number = version.number
            calls.append(call)
    Call.objects.bulk_create(calls, batch_size=500)  # no signals: the rollups rebuilt
    rollups.rebuild(workspace)
    return len(calls)


def _version_at(versions: list, when: datetime) -> int | None:
    live = [history_id for date, history_id in versions if date <= when]
    return live[-1] if live else (versions[0][1] if versions else None)


def _call(rng, started, sona, voicemail, jobs, versions, picks, closed) -> Call:
    name = rng.choice(NAMES)
    first = name.split()[0]
    caller = "anonymous" if rng.random() < 0.08 else f"+1555555{rng.randint(100, 199):04d}"
    ended = started + timedelta(seconds=rng.randint(25, 420))
    call = Call(source=Source.LIVE, caller=caller, started_at=started, ended_at=ended)
    call.step_key, call.step_name = sona["key"], sona["name"]
    roll = rng.random()
    if (closed or roll < 0.05) and voicemail is not None:
        call.step_key, call.step_name = voicemail["key"], voicemail["name"]
        call.outcome = Outcome.VOICEMAIL
        call.summary = f"{name} left a voicemail asking for a call back."
        call.next_steps = [f"Call {first} back"]
        call.transcript = f"Sona: You've reached Demo Dental. Please leave a message.\n{first}: …"
        return call
    if roll < 0.13:
        said = rng.choice(NO_JOB_SAYS)
        call.outcome, call.score = Outcome.NO_JOB_MATCHED, round(rng.uniform(0.05, 0.3), 2)
        call.summary = f"The caller said “{said}”; no job fitted, so Sona said so and ended."
        call.transcript = _transcript(said, "Sorry, I can't help with that. Goodbye!")
        return call
    job_name = rng.choices([n for n, _ in picks], weights=[w for _, w in picks])[0]
    job, scene = jobs[job_name], SCENARIOS[job_name]
    said = rng.choice(scene["says"])
    call.job, call.job_name = job, job.name
    call.job_history_id = _version_at(versions[job.pk], started)
    call.score = round(rng.uniform(0.58, 0.95), 2)
    edited = job_name == EDITED_JOB and call.job_history_id == versions[job.pk][-1][1]
    hang_up = 0.06 if job_name != EDITED_JOB or edited else 0.26
    roll = rng.random()
    if roll < 0.03:
        call.outcome = Outcome.FAILED
        call.summary = f"{name}'s call dropped while Sona was answering; nothing was done."
        call.transcript = _transcript(said, "…")
        return call
    if roll < 0.03 + hang_up:
        call.outcome = Outcome.CALLER_HUNG_UP
        call.summary = f"{name} asked “{said}” and hung up before Sona finished."
        call.transcript = _transcript(said, "Let me check that for you…")
        return call
    call.outcome = scene["outcome"]
    call.summary = scene["summary"].format(name=name, first=first, said=said)
    call.next_steps = [step.format(first=first) for step in scene["next"]]
    if scene["action"]:
        kind, detail = scene["action"]
        if rng.random() < 0.1:
            call.actions = [{"type": kind, "status": "failed", "detail": scene["action_fails"]}]
            call.outcome = Outcome.MESSAGE_TAKEN if kind == "transfer_call" else Outcome.RESOLVED
            call.next_steps.append(f"Follow up with {first}: the {kind.replace('_', ' ')} failed")
        else:
            call.actions = [{"type": kind, "status": "ok", "detail": detail}]
    call.transcript = _transcript(said, "Of course. May I have your name, please?", name)
    return call


def _transcript(said: str, reply: str, name: str = "") -> str:
    lines = ["Sona: Thanks for calling Demo Dental. How can I help?", f"Caller: {said}"]
    lines.append(f"Sona: {reply}")
    if name:
        lines += [f"Caller: It's {name}.", "Sona: Thank you. Anything else I can help with?"]
        lines.append("Caller: No, that's all. Thanks!")
    return "\n".join(lines)
