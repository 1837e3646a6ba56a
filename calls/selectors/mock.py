"""Reads for mock calls and scenarios: what a Sona step of the draft or the live version routes
against, each turn of a mock call, a call an AI caller plays, and routing health (scenarios run
in calls/scenarios.py). The draft and the live version are resolved the same way (a snapshot's
job ids with today's job text), so a mock call shows what a call would do."""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from callflows.models import CallFlow, PhoneNumber, StepKind
from callflows.snapshots import build_snapshot
from core.text import check_text
from jobs.models import Job
from knowledge.models import KnowledgePage

from .. import routing, sona
from ..candidates import step_candidates, steps_candidates

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
        from ..routing.replies import sona_reply, writes_replies

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


_STORABLE = re.compile("[\x00\ud800-\udfff]")  # what no database stores (core/text.py)
SIMULATED_TURNS = 8  # the most turns an AI caller plays
PERSONA_MAX, CALLER_GOAL_MAX = 300, 500
NEEDS_LLM = "Set LLM_BASE_URL and ROUTER_BACKEND=llm to let an AI play the caller."


def can_simulate() -> bool:
    """Whether an AI can play the caller: the LLM backend and its endpoint are both set."""
    from core import llm

    from ..routing.replies import writes_replies

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
    from core.llm import LLMUnavailable

    from ..models import SAID_MAX
    from ..routing.replies import caller_line

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
