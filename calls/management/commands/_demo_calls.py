"""The demo's call history: four weeks of realistic calls on the demo number, deterministic.

Built once at demo time (idempotent: nothing is added when the demo's calls exist). A seeded
random.Random draws the calls day by day, so the same day gives the same calls. Times are the
workspace's: Sona's calls fall in the practice's opening hours (demo.DEMO_HOURS), the calls
outside them reach the after-hours step (the closed branch) or its voicemail. The demo's set-up
is dated weeks before the calls, its history rows and its audit events alike (Activity and the
Versions pages agree), and "Reschedule or cancel" is edited (through jobs.services) part-way,
dated then: the job page's "since your last edit" and the chart's edit mark show something, and
the edit visibly helps (fewer callers hang up). The last open day brings a run of wrong numbers,
so the no-job-matched rule has a true alert to show.
"""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from callflows.models import CallFlowVersion
from calls import rollups
from calls.models import Call, Outcome, Source
from calls.selectors.log import workspace_tz
from jobs.models import Job
from jobs.services import job_update
from knowledge.models import KnowledgePage
from workspaces import audit

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


# Opening hours per weekday (Monday 0) as (first hour, hour after the last), as demo.DEMO_HOURS.
OPEN_HOURS = {0: (8, 18), 1: (8, 18), 2: (8, 18), 3: (8, 18), 4: (8, 18), 5: (9, 13)}
WRONG_NUMBERS = 12  # the last open day's run of wrong numbers (the demo's alert)


def _midnight(workspace) -> datetime:
    """Today's midnight in the workspace's zone."""
    now = timezone.now().astimezone(workspace_tz(workspace))
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def built_at(workspace) -> datetime:
    """When the demo was set up: a weekday morning JOBS_DAYS_AGO days ago, its time."""
    return _midnight(workspace) - timedelta(days=JOBS_DAYS_AGO) + timedelta(hours=9)


def date_history(*, workspace, owner) -> None:
    """Demo build time only, right after the set-up (its audit events dated `built_at`): date
    the jobs' and the knowledge's versions and the published version then too, then edit one
    job (through the service, its event dated the same) and date that version part-way."""
    built = built_at(workspace)
    for model in (Job, KnowledgePage):
        model.history.filter(workspace_id=workspace.pk).update(history_date=built)
        # The documents' own timestamps agree with their history ("Last changed" on their
        # page); an update() writes no history row, which is the point here.
        model.objects.filter(workspace=workspace).update(created_at=built, updated_at=built)
    CallFlowVersion.objects.filter(call_flow__phone_number__workspace=workspace).update(
        published_at=built
    )
    edited = Job.objects.filter(workspace=workspace, name=EDITED_JOB).first()
    if edited is None:
        return
    when = _midnight(workspace) - timedelta(days=EDIT_DAYS_AGO) + timedelta(hours=9, minutes=14)
    with audit.dated(when):
        edited = job_update(job=edited, user=owner, data={"instructions": EDITED_INSTRUCTIONS})
    latest = edited.history.order_by("-history_id").first()
    Job.history.filter(pk=latest.pk).update(history_date=when)
    Job.objects.filter(pk=edited.pk).update(updated_at=when)


def add_calls(*, workspace, phone) -> int:
    """Four weeks of calls before today, unless the demo's calls exist. Returns how many."""
    if Call.objects.filter(workspace=workspace, external_id__startswith=EXTERNAL_PREFIX).exists():
        return 0
    version = phone.call_flow.live_version
    if version is None:
        return 0
    steps = {s["name"]: s for s in version.snapshot["steps"]}
    sona, after_hours = steps["Sona"], steps["After hours"]
    voicemail = _name_step(version.snapshot, "voicemail")
    jobs = {j.name: j for j in Job.objects.filter(pk__in=sona["jobs"] + after_hours["jobs"])}
    versions = {
        job.pk: list(job.history.order_by("history_date", "history_id").values_list(
            "history_date", "history_id"
        ))
        for job in jobs.values()
    }  # fmt: skip
    open_jobs = {j.name for j in jobs.values() if j.pk in sona["jobs"]}
    picks = [(name, s["weight"]) for name, s in SCENARIOS.items() if name in open_jobs]
    closed_job = next((jobs[n] for n in SCENARIOS if n in jobs and n not in open_jobs), None)
    rng = random.Random(SEED)  # noqa: S311 (demo data, deterministic on purpose)
    midnight = _midnight(workspace)
    last_open = min(
        d for d in range(1, DAYS + 1) if (midnight - timedelta(days=d)).weekday() in OPEN_HOURS
    )
    calls = []
    for days_ago in range(DAYS, 0, -1):
        # Wall-clock arithmetic in the workspace's zone: 9:00 is 9:00 on either side of DST.
        day = (midnight - timedelta(days=days_ago)).replace(hour=0)
        weekday = day.weekday()
        opened = OPEN_HOURS.get(weekday)
        starts = []  # (started, closed)
        if opened:
            count = rng.randint(11, 17) if weekday < 5 else rng.randint(5, 8)
            starts += [(_at(rng, day, *opened), False) for _ in range(count)]
        closed_hours = [7, 18, 19, 20] if weekday < 5 else [13, 14, 15] if opened else [10, 14]
        starts += [(_at(rng, day, h, h + 1), True) for h in rng.sample(closed_hours, 2)]
        wrong = []
        if days_ago == last_open:
            wrong = [_at(rng, day, 10, 12) for _ in range(WRONG_NUMBERS)]
        for started, closed in sorted(starts):
            call = _call(rng, started, sona, voicemail, jobs, versions, picks, closed)
            if closed:
                _after_hours(rng, call, after_hours, closed_job, versions)
            calls.append(call)
        for started in sorted(wrong):
            calls.append(_wrong_number(rng, started, sona))
    for n, call in enumerate(sorted(calls, key=lambda c: c.started_at), start=1):
        call.external_id = f"{EXTERNAL_PREFIX}{n:05d}"
        call.workspace, call.phone_number, call.number = workspace, phone, phone.number
        call.version_number = version.number
    Call.objects.bulk_create(calls, batch_size=500)  # no signals: the rollups rebuilt
    rollups.rebuild(workspace)
    return len(calls)


def _at(rng, day: datetime, first_hour: int, end_hour: int) -> datetime:
    """A time on `day` from first_hour:00 to before end_hour:00 (wall clock)."""
    return day.replace(hour=rng.randrange(first_hour, end_hour), minute=rng.randint(0, 59))


def _after_hours(rng, call: Call, step: dict, job, versions) -> None:
    """A call outside opening hours: the closed branch's Sona step took it (or its voicemail
    did, as _call drew): Sona gave the hours and took a message."""
    if call.outcome == Outcome.VOICEMAIL or job is None:
        return
    name = call.summary.split(" ")[0] if call.summary else "The caller"
    scene = SCENARIOS[job.name]
    said = rng.choice(scene["says"])
    call.step_key, call.step_name = step["key"], step["name"]
    call.job, call.job_name = job, job.name
    call.job_history_id = _version_at(versions[job.pk], call.started_at)
    call.outcome, call.actions = scene["outcome"], []
    call.summary = scene["summary"].format(name=name, first=name, said=said)
    call.next_steps = [s.format(first=name) for s in scene["next"]]
    call.transcript = _transcript(said, "We're closed right now. May I take a message?", name)


def _wrong_number(rng, started: datetime, sona: dict) -> Call:
    said = rng.choice(NO_JOB_SAYS)
    call = Call(source=Source.LIVE, caller=f"+1555555{rng.randint(200, 299):04d}")
    call.started_at, call.ended_at = started, started + timedelta(seconds=rng.randint(10, 40))
    call.step_key, call.step_name = sona["key"], sona["name"]
    call.outcome, call.score = Outcome.NO_JOB_MATCHED, round(rng.uniform(0.05, 0.3), 2)
    call.summary = f"The caller said “{said}”; no job fitted, so Sona said so and ended."
    call.transcript = _transcript(said, "Sorry, I can't help with that. Goodbye!")
    return call


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
    if closed and roll < 0.3 and voicemail is not None:
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
