"""Reads for mock calls and scenarios: what a Sona step of the draft or the live version routes
against, each turn of a mock call, and routing health (scenarios run in calls/scenarios.py). The draft and the live version are resolved the
same way (a snapshot's job ids with today's job text), so a mock call shows what a call would do."""

import json
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from callflows.live import fetch_one
from callflows.models import CallFlow, CallFlowVersion, PhoneNumber, Step, StepKind
from callflows.snapshots import build_snapshot
from jobs.models import Job
from knowledge.models import KnowledgePage
from workspaces.models import Workspace
from workspaces.text import check_text

from . import routing, sona
from .candidates import step_candidates, steps_candidates
from .models import Call, Outcome, Source

DRAFT, LIVE = "draft", "live"
VERSIONS = (DRAFT, LIVE)
NO_LIVE_VERSION = "This number has no live version yet: publish it first, or test the draft."
NO_SONA_STEP = "This call flow has no Sona step to test."


@dataclass(frozen=True)
class Target:
    """One Sona step of the draft or the live version, ready to route."""

    call_flow: CallFlow
    version: str  # DRAFT or LIVE
    version_number: int | None  # the live version's number; None for the draft
    step_key: str
    step_name: str
    jobs: dict[int, Job]  # attached, in order
    candidates: tuple[routing.Candidate, ...]
    pages: tuple[tuple[int, str, str], ...]  # (id, title, body) of the step's knowledge
    sona_steps: tuple[tuple[str, str], ...] = ()  # (key, name) of every Sona step, for a picker
    greeting: str = ""  # what the flow's greeting step says, for Sona's generated replies

    @property
    def label(self) -> str:
        return "draft" if self.version == DRAFT else f"live version {self.version_number}"


def snapshot_of(call_flow: CallFlow, version: str) -> tuple[dict, int | None]:
    if version == DRAFT:
        return build_snapshot(call_flow), None
    if version != LIVE:
        raise ValidationError(f"Choose the draft or the live version, not “{version}”.")
    live = call_flow.live_version
    if live is None:
        raise ValidationError(NO_LIVE_VERSION, code="no_live_version")
    return live.snapshot, live.number


def sona_steps(snapshot: dict) -> list[dict]:
    return [s for s in snapshot.get("steps", []) if s.get("kind") == StepKind.SONA]


def target(*, call_flow: CallFlow, version: str = DRAFT, step_key: str = "") -> Target:
    """The Sona step `step_key` (default: the first) of the draft or the live version. Raises
    ValidationError with a sentence for people when there is none. Six queries at most (the
    draft's snapshot (2), jobs, pages, scenarios, the jobs' stored vectors)."""
    snapshot, number = snapshot_of(call_flow, version)
    steps = sona_steps(snapshot)
    if not steps:
        raise ValidationError(NO_SONA_STEP, code="no_sona_step")
    step = next((s for s in steps if s["key"] == step_key), None) if step_key else steps[0]
    if step is None:
        raise ValidationError(
            f"The {('draft' if version == DRAFT else 'live version')} has no Sona step “{step_key}”.",
            code="unknown_step",
        )
    workspace_id = call_flow.phone_number.workspace_id
    found = Job.objects.filter(pk__in=step.get("jobs", []), workspace_id=workspace_id).in_bulk()
    jobs = {pk: found[pk] for pk in step.get("jobs", []) if pk in found}
    page_ids = step.get("knowledge", [])
    pages = KnowledgePage.objects.filter(pk__in=page_ids, workspace_id=workspace_id).in_bulk()
    return Target(
        call_flow=call_flow,
        version=version,
        version_number=number,
        step_key=step["key"],
        step_name=step["name"],
        jobs=jobs,
        candidates=step_candidates(
            call_flow_id=call_flow.pk, step_key=step["key"], jobs=list(jobs.values())
        ),
        pages=tuple((p, pages[p].title, pages[p].body) for p in page_ids if p in pages),
        sona_steps=tuple((s["key"], s["name"]) for s in steps),
        greeting=greeting_of(snapshot),
    )


def greeting_of(snapshot: dict) -> str:
    """What the flow's greeting step says, for Sona's generated replies."""
    return next(
        (
            str(s.get("settings", {}).get("message", ""))
            for s in snapshot.get("steps", [])
            if s.get("kind") == StepKind.GREETING
        ),
        "",
    )


# Mock calls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    said: str
    decision: routing.Decision
    job: Job | None
    walkthrough: sona.Walkthrough | None
    at_step: int  # which of the job's steps Sona is on (1 = first); 0 without a job
    passages: tuple[routing.Passage, ...]
    reply: str = ""  # Sona's generated reply (LLM backend); "" shows the job's own words
    notices: tuple[str, ...] = field(default=())
    message_job: str = ""  # the name of an attached job that takes messages, if any
    settles: tuple[str, ...] = ()  # the two jobs of the last turn's question, answered here

    @property
    def kind(self) -> str:
        """The decision: routing.JOB, CLARIFY or NONE."""
        return self.decision.decision

    @property
    def clarify(self) -> bool:
        return self.decision.decision == routing.CLARIFY

    @property
    def no_job(self) -> bool:
        return self.decision.decision == routing.NONE

    @property
    def confidence(self) -> str:
        """How sure Sona is of the job, in words ("" without one)."""
        return self.decision.confidence if self.job is not None else ""

    @property
    def runner_up(self) -> routing.Match | None:
        """The next best job (not shown for a question: its two options are)."""
        return None if self.clarify else self.decision.runner_up

    @property
    def runner_up_fits(self) -> bool:
        """Whether the runner-up also clears the no-job line (calibrated score 0.5)."""
        return self.runner_up is not None and self.runner_up.score >= 0.5

    @property
    def why(self) -> tuple[str, ...]:
        """In words, why: the chosen job's reasons; for no job, the closest job's."""
        if self.job is not None:
            return self.decision.job.why
        if self.no_job and self.decision.runner_up is not None:
            return self.decision.runner_up.why
        return ()

    @property
    def decision_words(self) -> str:
        """The decision in one sentence, for the live region, summaries and the command."""
        d = self.decision
        if self.job is not None:
            kept = ", continuing this job" if d.continued else ""
            return f"Sona picked “{self.job.name}” ({self.confidence or 'Unsure'}){kept}."
        if self.clarify:
            offered = " or ".join(f"“{o.name}”" for o in d.options)
            return f"Sona asks “{d.question}” ({offered})."
        text = "No job fits: Sona says what the business can help with"
        if self.message_job:
            text += f" and offers to take a message (“{self.message_job}”)"
        return text + "."

    @property
    def current_step(self) -> sona.Step | None:
        if not self.walkthrough or not self.walkthrough.steps:
            return None
        steps = self.walkthrough.steps
        return steps[min(self.at_step, len(steps)) - 1]

    @property
    def pages(self) -> tuple[tuple[str, tuple[routing.Passage, ...]], ...]:
        """(title, its passages) of each page Sona would quote, each page once, in the order of
        its best passage (two matching passages of one page are still one page)."""
        grouped: dict = {}
        for p in self.passages:
            key = p.page_id if p.page_id is not None else p.title
            grouped.setdefault(key, (p.title, []))[1].append(p)
        return tuple((title, tuple(found)) for title, found in grouped.values())

    @property
    def knowledge(self) -> tuple[str, ...]:
        """The titles of the pages Sona would quote, each page once, in order."""
        return tuple(title for title, _ in self.pages)


def workspace_numbers(call_flow: CallFlow) -> dict[str, str]:
    """E.164 → display name of the workspace's numbers, to name transfer targets."""
    return dict(
        PhoneNumber.objects.live()
        .filter(workspace_id=call_flow.phone_number.workspace_id)
        .values_list("number", "display_name")
    )


class Conversation:
    """A mock call turn by turn, routed as the live line would: a later turn continues the
    chosen job (its next step) unless the caller clearly changes intent; a question (CLARIFY)
    is settled by the caller's next turn. `say` adds one turn and answers it."""

    def __init__(self, goal: Target, numbers: dict[str, str] | None = None, speak: bool = True):
        self.goal = goal
        self.speak = speak  # False: no LLM reply is asked for (scenario runs check decisions)
        # workspace_numbers(), passed in when one caller replays many calls (scenarios)
        self.numbers = workspace_numbers(goal.call_flow) if numbers is None else numbers
        self.region = goal.call_flow.phone_number.workspace.country
        self.message_job = next(
            (j.name for j in goal.jobs.values() if "message" in j.name.lower()), ""
        )
        self.turns: list[Turn] = []
        self._current, self._at_step, self._offered = None, 0, ()

    def say(self, text: str, *, reply: str | None = None) -> Turn:
        """Route what the caller said and answer it. `reply`: Sona's reply already written by
        the LLM for this turn (kept, not asked again)."""
        from .routing.replies import sona_reply, writes_replies

        goal, history = self.goal, [t.said for t in self.turns]
        decision = routing.route(
            goal.candidates, text, history, self._current, tuple(o.id for o in self._offered)
        )
        settles = tuple(o.name for o in self._offered)
        chosen = decision.job if decision.decision == routing.JOB else None
        job = goal.jobs.get(chosen.id) if chosen else None
        walk = (
            sona.walkthrough(job.instructions, numbers=self.numbers, region=self.region)
            if job
            else None
        )
        if job and job.pk == self._current:
            self._at_step += 1
        else:
            self._at_step = sona.first_step(walk.steps) if job else 0
        self._current = job.pk if job else None
        self._offered = decision.options[:2] if decision.decision == routing.CLARIFY else ()
        found = routing.passages(goal.pages, text)
        notices = [decision.notice] if decision.notice else []
        if self._offered:  # Sona asks which of the two jobs the caller means
            reply = decision.question
        elif self.speak and (reply is None or not writes_replies()):
            reply, notice = sona_reply(
                job.name if job else "",
                job.instructions if job else "",
                found,
                goal.greeting,
                text,
                history,
            )
            notices += [notice] if notice else []
        if not reply:  # the built-in backend, or the LLM failed: the job's own words
            step = (
                walk.steps[self._at_step - 1]
                if walk and 0 < self._at_step <= len(walk.steps)
                else None
            )
            reply = sona.builtin_reply(
                kind=decision.decision,
                steps=walk.steps if walk else (),
                at_step=self._at_step,
                job_name=job.name if job else "",
                said=text,
                passages=found,
                step_passages=routing.passages(goal.pages, step.text) if step else (),
                question=decision.question,
                job_names=[j.name for j in goal.jobs.values()],
                message_job=self.message_job,
            )
        turn = Turn(
            said=text,
            decision=decision,
            job=job,
            walkthrough=walk,
            at_step=self._at_step,
            passages=tuple(found),
            reply=reply,
            notices=tuple(notices),
            message_job=self.message_job,
            settles=settles,
        )
        self.turns.append(turn)
        return turn


def mock_turns(
    goal: Target,
    said: list[str],
    *,
    replies: list[str] | None = None,
    numbers: dict[str, str] | None = None,
    speak: bool = True,
) -> list[Turn]:
    """Every turn of a mock call, routed one after another (see Conversation).
    `replies`: Sona's replies already written by the LLM for earlier turns (kept);
    `numbers`: workspace_numbers(), when the caller replays many calls (scenarios);
    `speak`: False to ask no LLM for Sona's replies (the built-in words are used)."""
    call = Conversation(goal, numbers, speak)
    replies = list(replies or [])
    for index, text in enumerate(said):
        call.say(text, reply=replies[index] if index < len(replies) and replies[index] else None)
    return call.turns


_STORABLE = re.compile("[\x00\ud800-\udfff]")  # what no database stores (workspaces/text.py)
SIMULATED_TURNS = 8  # the most turns an AI caller plays
PERSONA_MAX, CALLER_GOAL_MAX = 300, 500
NEEDS_LLM = "Set LLM_BASE_URL and ROUTER_BACKEND=llm to let an AI play the caller."


def can_simulate() -> bool:
    """Whether an AI can play the caller: the LLM backend and its endpoint are both set."""
    from workspaces import llm

    from .routing.replies import writes_replies

    return writes_replies() and llm.configured()


@dataclass(frozen=True)
class Simulation:
    turns: list[Turn]
    notice: str = ""  # why it stopped early when the AI caller failed
    ended_by_caller: bool = False  # the AI caller said it was done before the turn limit


def _clean(value, what: str, limit: int) -> str:
    value = " ".join(str(value or "").split())
    if not value:
        raise ValidationError(f"{what} is empty: describe it in a few words.", code=what)
    if len(value) > limit:
        raise ValidationError(
            f"{what} can be at most {limit} characters (it has {len(value):,}).", code=what
        )
    check_text(value, what)
    return value


def simulated_call(
    goal: Target, *, persona: str, caller_goal: str, turns: int = SIMULATED_TURNS
) -> Simulation:
    """A mock call whose caller the LLM plays: each caller line is written from the persona,
    the caller's goal and the conversation so far, up to `turns` turns, ending early when the
    LLM says the caller is done. Nothing is stored. Raises ValidationError for bad input, when
    no LLM is set, or when the AI caller says nothing at all."""
    from workspaces.llm import LLMUnavailable

    from .models import SAID_MAX
    from .routing.replies import caller_line

    errors = {}
    for key, value, what, limit in (
        ("persona", persona, "Persona", PERSONA_MAX),
        ("caller_goal", caller_goal, "Caller's goal", CALLER_GOAL_MAX),
    ):
        try:
            _clean(value, what, limit)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not can_simulate():
        raise ValidationError(NEEDS_LLM, code="no_llm")
    persona = _clean(persona, "Persona", PERSONA_MAX)
    caller_goal = _clean(caller_goal, "Caller's goal", CALLER_GOAL_MAX)
    call, notice, ended = Conversation(goal), "", False
    for _ in range(turns):
        try:
            line = caller_line(persona, caller_goal, [(t.said, t.reply) for t in call.turns])
        except LLMUnavailable as error:
            notice = f"The AI caller was unavailable ({error}); the call stops here."
            break
        if not line:
            ended = True
            break
        call.say(_STORABLE.sub("", line)[:SAID_MAX])  # it may be stored with End call
    if not call.turns:
        raise ValidationError(
            notice or "The AI caller hung up before saying anything: try another goal.",
            code="no_turns",
        )
    return Simulation(call.turns, notice, ended)


# Scenarios (calls/scenarios.py runs them) and routing health ---------------------------------


@dataclass(frozen=True)
class RoutingHealth:
    """A step's Routing health: its examples (one-turn scenarios expecting a job: test cases)
    routed, each as a caller the router has never heard, and the examples that pull callers
    toward another job (likely wrong labels)."""

    rows: tuple  # routing.health's rows (job_id, name, cases, right, confused), a row a job
    pulls: dict[tuple[str, str], str]  # (expected job's name, lowered; the sentence) -> pulled

    def pulled(self, scenario) -> str:
        """The job a one-turn `scenario` pulls callers toward ("": none), for its warning."""
        job = scenario.example_job
        if job is None:
            return ""
        return self.pulls.get((job.lower(), scenario.turns[0].strip()), "")


def routing_health(goal: Target) -> RoutingHealth:
    """The Routing health of a step of the draft or the live version (no query)."""
    rows = tuple(routing.health(goal.candidates))
    pulls = {
        (p.expected.name.lower(), p.example.strip()): p.pulled.name
        for p in routing.pulls(goal.candidates)
    }
    return RoutingHealth(rows, pulls)


@dataclass(frozen=True)
class SnapshotStep:
    key: str
    name: str
    jobs: dict[int, Job]
    candidates: tuple[routing.Candidate, ...]


def snapshot_steps(call_flow: CallFlow, snapshot: dict) -> dict[str, SnapshotStep]:
    """The snapshot's Sona steps by key, ready to route (three queries: jobs, scenarios,
    vectors)."""
    steps = sona_steps(snapshot)
    ids = {pk for s in steps for pk in s.get("jobs", [])}
    workspace_id = call_flow.phone_number.workspace_id
    found = Job.objects.filter(pk__in=ids, workspace_id=workspace_id).in_bulk() if ids else {}
    jobs = {s["key"]: {pk: found[pk] for pk in s.get("jobs", []) if pk in found} for s in steps}
    built = steps_candidates(
        call_flow_id=call_flow.pk, steps={key: list(j.values()) for key, j in jobs.items()}
    )
    return {
        s["key"]: SnapshotStep(s["key"], s["name"], jobs[s["key"]], built[s["key"]]) for s in steps
    }


@dataclass(frozen=True)
class StepRouting:
    """What routing warns about on one Sona step of a snapshot."""

    step_name: str
    overlaps: tuple[routing.Overlap, ...]  # pairs of jobs callers could confuse
    pulls: tuple  # routing.Pull: test cases that pull callers toward another job
    # The overlap each pull was probed as (same sentence and jobs), for its suggestions.
    pull_overlaps: dict = field(default_factory=dict)


def step_routing(call_flow: CallFlow, snapshot: dict) -> list[StepRouting]:
    """For each Sona step with two jobs or more: the jobs callers could confuse and the test
    cases that pull callers toward another job than their own (likely wrong labels). An
    overlap probed with a pulled test case is left to the pull's warning, which says more."""
    found = []
    for step in snapshot_steps(call_flow, snapshot).values():
        if len(step.candidates) < 2:
            continue
        pulls = tuple(routing.pulls(step.candidates))
        pulled = {_key(p.example, p.expected, p.pulled): p for p in pulls}
        overlaps, pull_overlaps = [], {}
        for overlap in routing.overlaps(step.candidates):
            pull = pulled.get(_key(overlap.phrase, overlap.expected, overlap.reached))
            if pull is None:
                overlaps.append(overlap)
            else:
                pull_overlaps[pull] = overlap
        if overlaps or pulls:
            found.append(StepRouting(step.name, tuple(overlaps), pulls, pull_overlaps))
    return found


def _key(phrase: str, expected: routing.Match, other: routing.Match) -> tuple:
    return (phrase.strip().lower(), expected.id, other.id)


# Calls pages: the list (keyset pages), one call, the CSV export and the activity charts --------

LIST_PAGE_SIZE = 50
EXPORT_CHUNK = 2_000
ACTIVITY_DAYS = 30
CURSOR_SALT = "calls.list.cursor"
# What a row of the Calls page shows (and the cursor needs).
LIST_FIELDS = (
    "workspace_id",
    "started_at",
    "caller",
    "number",
    "source",
    "job_id",
    "job_name",
    "outcome",
    "actions",
)
SEARCH_MAX = 200  # longer searches are cut (as the job library does)


def workspace_tz(workspace: Workspace) -> tzinfo:
    """The zone a workspace's days are counted in: its own, else its country's main zone (the
    one its pages show times in: workspaces/middleware.py)."""
    try:
        return zoneinfo.ZoneInfo(workspace.zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a zone tzdata has since dropped
        return timezone.get_default_timezone()


# The Source filter of the Calls page and its export: real calls by default (mock calls are kept
# apart: product.md, "Call summaries"), mock calls, or all.
ALL_SOURCES = "all"
SOURCE_CHOICES = (
    (Source.LIVE, "Real calls"),
    (Source.MOCK, "Mock calls"),
    (ALL_SOURCES, "All"),
)
BAD_SOURCE = "Choose Real calls, Mock calls or All."


@dataclass(frozen=True)
class CallFilters:
    """What the Calls page filters on; every field optional. Ids are already checked to belong
    to the workspace (calls/forms.py); the queryset is scoped to the workspace anyway."""

    phone_number_id: int | None = None
    job_id: int | None = None
    outcome: str = ""
    source: str = Source.LIVE  # real calls unless mock calls (Source.MOCK) or ALL_SOURCES are asked
    date_from: date | None = None  # inclusive, in the workspace's zone
    date_to: date | None = None  # inclusive, in the workspace's zone
    search: str = ""


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def calls_filtered(*, workspace: Workspace, filters: CallFilters) -> QuerySet[Call]:
    """The workspace's calls matching the filters, newest first: each filter column has an
    index with (started_at, id) after it (calls/models.py), the search a trigram index."""
    calls = Call.objects.filter(workspace=workspace)
    if filters.phone_number_id is not None:
        calls = calls.filter(phone_number_id=filters.phone_number_id)
    if filters.job_id is not None:
        calls = calls.filter(job_id=filters.job_id)
    if filters.outcome:
        calls = calls.filter(outcome=filters.outcome)
    if filters.source != ALL_SOURCES:  # call_source_recent, or the other filter's index
        calls = calls.filter(source=filters.source or Source.LIVE)
    tz = workspace_tz(workspace)
    if filters.date_from:
        calls = calls.filter(started_at__gte=_day_start(filters.date_from, tz))
    if filters.date_to:
        calls = calls.filter(started_at__lt=_day_start(filters.date_to + timedelta(days=1), tz))
    if search := filters.search.strip()[:SEARCH_MAX]:
        calls = calls.filter(summary__icontains=search)
    return calls.order_by("-started_at", "-id")


# A cursor is the (started_at, id) of the row a page starts after, signed so that a link
# cannot be forged into a query of anything else; a bad one is refused (BadCursor).
class BadCursor(ValueError):
    pass


def cursor_encode(call: Call) -> str:
    return signing.dumps([call.started_at.isoformat(), call.pk], salt=CURSOR_SALT, compress=False)


def cursor_decode(value: str) -> tuple[datetime, int]:
    try:
        started, pk = signing.loads(value, salt=CURSOR_SALT)
        started_at = datetime.fromisoformat(started)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadCursor("This page link is not valid any more.") from exc
    if type(pk) is not int or pk < 1 or started_at.tzinfo is None:
        raise BadCursor("This page link is not valid any more.")
    return started_at, pk


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    newer: str  # the cursor of the newer page ("" on the first page)
    older: str  # the cursor of the older page ("" on the last page)


def _older_than(calls: QuerySet, started_at: datetime, pk: int) -> QuerySet:
    # started_at <= t first, so the planner walks the index from the cursor on.
    return calls.filter(started_at__lte=started_at).filter(
        Q(started_at__lt=started_at) | Q(pk__lt=pk)
    )


def _newer_than(calls: QuerySet, started_at: datetime, pk: int) -> QuerySet:
    return calls.filter(started_at__gte=started_at).filter(
        Q(started_at__gt=started_at) | Q(pk__gt=pk)
    )


def call_page(
    calls: QuerySet[Call], *, after: str = "", before: str = "", size: int | None = None
) -> CallPage:
    """One page of `calls` (newest first) by keyset: `after` a cursor gives older calls, `before`
    one newer calls. One query whichever page it is: page 5,000 costs what page 1 costs.
    Raises BadCursor for a cursor that was not made by cursor_encode."""
    size = size or LIST_PAGE_SIZE
    calls = calls.only(*LIST_FIELDS)  # never the transcript (up to 100,000 characters)
    if before:
        rows = list(
            _newer_than(calls, *cursor_decode(before)).order_by("started_at", "id")[: size + 1]
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return CallPage(
            rows,
            newer=cursor_encode(rows[0]) if rows and more_newer else "",
            older=cursor_encode(rows[-1]) if rows else "",
        )
    if after:
        calls = _older_than(calls, *cursor_decode(after))
    rows = list(calls[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return CallPage(
        rows,
        newer=cursor_encode(rows[0]) if rows and after else "",
        older=cursor_encode(rows[-1]) if rows and more_older else "",
    )


def call_get(*, workspace: Workspace, pk: int) -> Call:
    """One call of the workspace (another workspace's call is a 404), with the number of the
    job's history version it used and the history id of the version before it, so the page can
    link to "what this version changed" in the job's history."""
    call = get_object_or_404(Call, workspace=workspace, pk=pk)
    call.job_version_number = call.job_previous_history_id = None
    if call.job_id and call.job_history_id:
        found = Job.history.filter(id=call.job_id, history_id__lte=call.job_history_id).aggregate(
            number=Count("history_id"),
            previous=Max("history_id", filter=Q(history_id__lt=call.job_history_id)),
            this=Count("history_id", filter=Q(history_id=call.job_history_id)),
        )
        if found["this"]:  # the history row exists (and is this job's)
            call.job_version_number = found["number"]
            call.job_previous_history_id = found["previous"] or call.job_history_id
    return call


EXPORT_COLUMNS = (
    ("started_at", "Started"),
    ("ended_at", "Ended"),
    ("number", "Number"),
    ("caller", "Caller"),
    ("source", "Source"),
    ("version_number", "Call flow version"),
    ("step_name", "Step"),
    ("job_name", "Job"),
    ("job_history_id", "Job history id"),
    ("score", "Score"),
    ("outcome", "Outcome"),
    ("actions", "Actions"),
    ("summary", "Summary"),
    ("next_steps", "Next steps"),
    ("recording_url", "Recording"),
    ("external_id", "External id"),
)


def calls_export_rows(calls: QuerySet[Call]):
    """The rows of a CSV export of `calls`, read in chunks (a server-side cursor on PostgreSQL),
    so memory stays flat at any size. Values are plain strings; the view makes them CSV-safe."""
    fields = [name for name, _ in EXPORT_COLUMNS]
    outcomes, sources = dict(Outcome.choices), dict(Source.choices)
    for row in calls.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        values = dict(zip(fields, row, strict=True))
        values["outcome"] = outcomes.get(values["outcome"], values["outcome"])
        values["source"] = sources.get(values["source"], values["source"])
        values["actions"] = "; ".join(_action_text(a) for a in values["actions"] or [])
        values["next_steps"] = "; ".join(str(s) for s in values["next_steps"] or [])
        for key in ("started_at", "ended_at"):
            values[key] = values[key].isoformat() if values[key] else ""
        yield ["" if values[name] is None else str(values[name]) for name in fields]


def _action_text(action) -> str:
    if not isinstance(action, dict):
        return str(action)
    text = f"{action.get('type', '')}: {action.get('status', '')}"
    return f"{text} ({action['detail']})" if action.get("detail") else text


# Activity: "since your last edit" and calls per day by outcome, for a job or a number ----------


@dataclass(frozen=True)
class Edit:
    at: datetime
    day: date
    label: str  # "Version 4"


@dataclass
class Activity:
    """Real calls (never mock calls) of one job (or number) per day and outcome over the last
    `days` days, the edits (job history rows, or published call flow versions) in that window,
    and the calls since the last edit by outcome. Built with a constant number of queries (GROUP
    BY day, outcome)."""

    days: list[date]
    counts: dict[date, dict[str, int]]  # day -> outcome -> calls
    edits: list[Edit]
    last_edit: datetime | None
    since: list[tuple[str, str, int]]  # (outcome, label, calls) since the last edit, most first
    tz: tzinfo = field(repr=False, default=UTC)

    @property
    def since_total(self) -> int:
        return sum(n for _, _, n in self.since)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        """The outcomes that occur in the window, in the model's order (chart legend)."""
        seen = {o for c in self.counts.values() for o in c}
        return [(value, label) for value, label in Outcome.choices if value in seen]


def _activity(calls: QuerySet, edits: list[Edit], last_edit, tz, days: int, today) -> Activity:
    calls = calls.real()  # no figure ever counts a mock call
    first = today - timedelta(days=days - 1)
    # Bounded on both sides: a call stored with a far time (before the report API refused one)
    # would overflow the date in this zone.
    window = calls.filter(
        started_at__gte=_day_start(first, tz),
        started_at__lt=_day_start(today + timedelta(days=1), tz),
    )
    counts: dict[date, dict[str, int]] = {}
    grouped = (
        window.annotate(day=TruncDate("started_at", tzinfo=tz))
        .values_list("day", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for day, outcome, n in grouped:
        counts.setdefault(day, {})[outcome] = n
    since = []
    if last_edit is not None:
        labels = dict(Outcome.choices)
        by_outcome = (
            calls.filter(started_at__gte=last_edit)
            .values_list("outcome")
            .annotate(n=Count("id"))
            .order_by()
        )
        since = sorted(
            ((o, labels.get(o, o), n) for o, n in by_outcome), key=lambda r: (-r[2], r[1])
        )
    return Activity(
        days=[first + timedelta(days=i) for i in range(days)],
        counts=counts,
        edits=[e for e in edits if e.day >= first],
        last_edit=last_edit,
        since=since,
        tz=tz,
    )


def _today(tz) -> date:
    return timezone.now().astimezone(tz).date()


def job_activity(*, workspace: Workspace, job: Job, days: int = ACTIVITY_DAYS) -> Activity:
    """A job's real calls across its versions; each history row (an edit) is marked. 4 queries."""
    tz = workspace_tz(workspace)
    today = _today(tz)
    start = _day_start(today - timedelta(days=days - 1), tz)
    history = Job.history.filter(id=job.pk)
    before = history.filter(history_date__lt=start).count()
    rows = list(
        history.filter(history_date__gte=start)
        .order_by("history_id")
        .values_list("history_date", flat=True)
    )
    if rows:
        last_edit = rows[-1]
    else:
        last_edit = history.order_by("-history_id").values_list("history_date", flat=True).first()
    edits = [
        Edit(at, at.astimezone(tz).date(), f"Version {before + n}")
        for n, at in enumerate(rows, start=1)
    ]
    calls = Call.objects.filter(workspace=workspace, job=job)
    return _activity(calls, edits, last_edit, tz, days, today)


def number_activity(
    *, workspace: Workspace, phone_number: PhoneNumber, days: int = ACTIVITY_DAYS
) -> Activity:
    """A number's real calls across its call flow versions; each publish is marked. 3 queries."""
    tz = workspace_tz(workspace)
    today = _today(tz)
    start = _day_start(today - timedelta(days=days - 1), tz)
    versions = list(
        CallFlowVersion.objects.filter(call_flow__phone_number=phone_number)
        .filter(Q(published_at__gte=start) | Q(pk=F("call_flow__live_version")))
        .order_by("number")
        .values_list("number", "published_at")
    )
    edits = [
        Edit(at, at.astimezone(tz).date(), f"Version {number} published") for number, at in versions
    ]
    last_edit = max((at for _, at in versions), default=None)
    calls = Call.objects.filter(workspace=workspace, phone_number=phone_number)
    return _activity(calls, edits, last_edit, tz, days, today)


# Call reports (POST /api/v1/calls) ---------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    """What a call report is checked against, read in one query (calls/services.call_report)."""

    phone_id: int
    call_flow_id: int | None
    version_number: int | None  # the version live at started_at
    version_snapshot: dict | None  # ... and its steps, to name the step as it was then
    draft_step_name: str | None  # the draft's Sona step with the reported key, if any
    job_name: str | None  # None: no such job in the workspace (soft-deleted ones count)
    job_history_id: int | None  # the job's history version: named, or live at started_at
    job_history_name: str | None


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Scalar subqueries on indexed columns, one round trip, prepared once per connection on
# PostgreSQL (callflows.live.fetch_one): the ORM took longer to compile this than to run it.
# Parameters: workspace, number; started x2 (version), step; job, workspace (job); job, version,
# version, started x2 (history id), and the same again (history name).
_HISTORY = (
    "FROM {history} h WHERE h.id = %s AND (h.history_id = CAST(%s AS bigint) "
    "OR (CAST(%s AS bigint) IS NULL AND h.history_date <= %s)) "
    "ORDER BY h.history_date DESC, h.history_id DESC LIMIT 1"
)
_VERSION = (
    "FROM {version} v WHERE v.call_flow_id = c.id AND v.published_at <= %s "
    "ORDER BY v.published_at DESC, v.number DESC LIMIT 1"
)


@cache
def _context_sql() -> str:
    tables = {
        "history": _table(Job.history.model),
        "version": _table(CallFlowVersion),
    }
    history, version = _HISTORY.format(**tables), _VERSION.format(**tables)
    return (
        f"SELECT p.id, c.id, (SELECT v.number {version}), "  # noqa: S608 (names from models)
        f"(SELECT v.snapshot {version}), "
        f"(SELECT s.name FROM {_table(Step)} s WHERE s.call_flow_id = c.id AND s.key = %s "
        f"AND s.kind = '{StepKind.SONA}'), "
        f"(SELECT j.name FROM {_table(Job)} j WHERE j.id = %s AND j.workspace_id = %s), "
        f"(SELECT h.history_id {history}), (SELECT h.name {history}) "
        f"FROM {_table(PhoneNumber)} p "
        f"LEFT JOIN {_table(CallFlow)} c ON c.phone_number_id = p.id "
        "WHERE p.workspace_id = %s AND p.number = %s "
        # The number in use; else the last deleted one (a call that was on the line when its
        # number was deleted is still reported and kept).
        "ORDER BY CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END, p.deleted_at DESC LIMIT 1"
    )


def report_context(
    *, workspace_id: int, number: str, started_at, step: str, job: int | None, job_version
) -> ReportContext | None:
    """The number (None: not the workspace's), its call flow version live at `started_at`, the
    draft step, the job and its history version: one query of scalar subqueries."""
    started = connection.ops.adapt_datetimefield_value(started_at)
    job_id = job if job is not None else 0  # no job has id 0: the job subqueries find nothing
    history = [job_id, job_version, job_version, started]
    params = [started, started, step, job_id, workspace_id, *history, *history]
    params += [workspace_id, number]
    row = fetch_one(_context_sql(), params)
    if row is None:
        return None
    snapshot = row[3]
    if isinstance(snapshot, str | bytes):
        snapshot = json.loads(snapshot)
    return ReportContext(
        phone_id=row[0],
        call_flow_id=row[1],
        version_number=row[2],
        version_snapshot=snapshot,
        draft_step_name=row[4] if step else None,
        job_name=row[5],
        job_history_id=row[6],
        job_history_name=row[7],
    )


def report_existing(*, workspace_id: int, key: str, external_id: str) -> tuple | None:
    """(id, request digest) of the call stored under this idempotency key, else of the one with
    this external id (taken under another key): one query, each side on its unique index."""
    table = _table(Call)
    sql = (
        f"SELECT id, request_digest FROM {table} "  # noqa: S608 (names from the model)
        "WHERE workspace_id = %s AND (idempotency_key = %s OR external_id = %s) "
        "ORDER BY CASE WHEN idempotency_key = %s THEN 0 ELSE 1 END LIMIT 1"
    )
    return fetch_one(sql, [workspace_id, key, external_id, key])


def step_name_in_any_version(*, call_flow_id: int, step: str) -> str | None:
    """A Sona step's name in the newest version that has it (a step since removed from the
    draft and not in the version live at the time: rare, so a scan of the snapshots is fine)."""
    for snapshot in CallFlowVersion.objects.filter(call_flow_id=call_flow_id).values_list(
        "snapshot", flat=True
    ):
        for s in snapshot.get("steps", []):
            if s.get("key") == step and s.get("kind") == StepKind.SONA:
                return s.get("name", "")
    return None
