"""Scenarios (tests): what a scenario may say and expect, and how one runs.

A scenario is a short script of what a caller says, turn by turn, and what must happen. It runs
by replaying its turns through `selectors.mock.mock_turns`, the mock call's own loop (a question is
settled by the next turn, a later turn continues the chosen job), against a step of the draft
or a published version, then checking its expectations:

- `job`: the job that handled the call by the end, as a stored mock call names it (the last
  turn's job, or the job of the last turn that had one; a call that ends on Sona's question was
  handled by no job). `None`: no job. With `at_turn`: the job chosen at that turn instead.
- `actions`: each performed at least once; `transfer_to` (optional): a transfer to that member
  email or number. `never`: never performed. An action counts as **performed on a turn whose
  chosen job contains it** (the actions the mock call's walkthrough lists for that job), not
  when Sona's step counter reaches the step with the marker: a turn moves Sona one step on, so
  a short script would never reach a transfer at step 5, while the job it routed to would.
- `clarify`: True, Sona asked a clarifying question on some turn; False, never.

A failing scenario names the first turn where it went wrong and the expectation ("Turn 2:
expected no transfer_call; Sona would transfer the call to Front desk (+15555550100)"). The
built-in router is deterministic, so a scenario runs once; with the LLM router it runs `runs`
times and passes when at least `pass_rate` % of the runs pass.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from callflows.models import CallFlow
from core.phones import normalize_phone
from core.text import check_text
from jobs import actions as job_actions

from .models import (
    SAID_MAX,
    SCENARIO_ACTIONS,
    SCENARIO_NAME_MAX,
    SCENARIO_RUNS_MAX,
    SCENARIO_TURNS_MAX,
    Scenario,
)
from .selectors import mock

ACTION_TYPES = tuple(value for value, _ in SCENARIO_ACTIONS)
ACTION_LABELS = dict(SCENARIO_ACTIONS)
EXPECT_KEYS = ("job", "at_turn", "actions", "transfer_to", "never", "clarify")


# What a scenario may hold ---------------------------------------------------------------------


def _error(where: str, message: str) -> ValidationError:
    """An error naming its field ("name", "turns", "expect.job", …): forms put it beside the
    field, files name it."""
    return ValidationError({where: [message]})


def clean_name(name) -> str:
    if not isinstance(name, str):
        raise _error("name", "The name must be text.")
    name = " ".join(name.split())
    if not name:
        raise _error("name", "Give the scenario a name.")
    if len(name) > SCENARIO_NAME_MAX:
        raise _error(
            "name", f"The name can be at most {SCENARIO_NAME_MAX} characters (it has {len(name)})."
        )
    try:
        check_text(name, "The name")
    except ValidationError as exc:
        raise _error("name", " ".join(exc.messages)) from None
    return name


def clean_turns(turns) -> list[str]:
    """1–12 caller sentences, each 1–500 characters, not blank (spaces are tidied)."""
    if isinstance(turns, str) or not isinstance(turns, list | tuple):
        raise _error("turns", "Turns must be a list of what the caller says, one per turn.")
    if not turns:
        raise _error("turns", "A scenario needs at least one turn.")
    if len(turns) > SCENARIO_TURNS_MAX:
        raise _error(
            "turns",
            f"A scenario can have at most {SCENARIO_TURNS_MAX} turns (it has {len(turns)}).",
        )
    cleaned = []
    for number, said in enumerate(turns, start=1):
        if not isinstance(said, str):
            raise _error("turns", f"Turn {number} must be text.")
        said = " ".join(said.split())
        if not said:
            raise _error("turns", f"Turn {number} is empty: write what the caller says.")
        if len(said) > SAID_MAX:
            raise _error(
                "turns",
                f"Turn {number} can be at most {SAID_MAX} characters (it has {len(said):,}).",
            )
        try:
            check_text(said, f"Turn {number}")
        except ValidationError as exc:
            raise _error("turns", " ".join(exc.messages)) from None
        cleaned.append(said)
    return cleaned


def _action_list(value, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _error(
            f"expect.{key}", f"“{key}” must be a list of actions: send_sms, transfer_call."
        )
    found = []
    for item in value:
        if item not in ACTION_TYPES:
            raise _error(
                f"expect.{key}", f"“{item}” is not an action: use send_sms or transfer_call."
            )
        if item not in found:
            found.append(item)
    return found


def clean_transfer_to(value, *, region: str) -> str:
    """A member's email (lowered) or a phone number (E.164, read in the workspace's country)."""
    if not isinstance(value, str) or not value.strip():
        raise _error("expect.transfer_to", "Name the transfer's target: a member email or number.")
    value = value.strip()
    if "@" in value:
        return value.lower()
    try:
        return normalize_phone(value, region=region)
    except ValidationError:
        raise _error(
            "expect.transfer_to", f"“{value}” is neither a member's email nor a phone number."
        ) from None


def clean_expect(expect, *, turns: int, job_names: dict[str, str], region: str) -> dict:
    """The expectation, normalized: only the keys given. `job_names`: the workspace's jobs not
    deleted, lowered name → name (a job named in another case is stored as the job spells it).
    A list `actions` may hold {"transfer_call": target} for a transfer to someone."""
    if expect is None:
        expect = {}
    if not isinstance(expect, dict):
        raise _error("expect", "The expectation must be a mapping (job, actions, never, …).")
    unknown = [str(k) for k in expect if k not in EXPECT_KEYS]
    if unknown:
        raise _error(
            f"expect.{unknown[0]}",
            f"“{unknown[0]}” is not an expectation: use {', '.join(EXPECT_KEYS)}.",
        )
    found: dict = {}
    if "job" in expect:
        job = expect["job"]
        if job is None:
            found["job"] = None
        elif not isinstance(job, str) or not job.strip():
            raise _error("expect.job", "The job must be a job's name, or null for no job.")
        elif job.strip().lower() not in job_names:
            raise _error("expect.job", f"There is no job named “{job.strip()}” in this workspace.")
        else:
            found["job"] = job_names[job.strip().lower()]
    if expect.get("at_turn") is not None:
        at = expect["at_turn"]
        if "job" not in found:
            raise _error("expect.at_turn", "“at_turn” says when the job is chosen: name the job.")
        if isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= turns:
            raise _error(
                "expect.at_turn", f"“at_turn” must be a turn of the scenario, 1 to {turns}."
            )
        found["at_turn"] = at
    raw_actions = expect.get("actions")
    transfer_to = expect.get("transfer_to")
    if isinstance(raw_actions, list | tuple):
        listed = []
        for item in raw_actions:
            if isinstance(item, dict) and list(item) == ["transfer_call"]:
                listed.append("transfer_call")
                transfer_to = item["transfer_call"] if transfer_to is None else transfer_to
            else:
                listed.append(item)
        raw_actions = listed
    performed = _action_list(raw_actions, "actions")
    if performed:
        found["actions"] = performed
    if transfer_to is not None:
        if "transfer_call" not in performed:
            raise _error(
                "expect.transfer_to", "A transfer's target needs transfer_call in the actions."
            )
        found["transfer_to"] = clean_transfer_to(transfer_to, region=region)
    never = _action_list(expect.get("never"), "never")
    both = [a for a in never if a in performed]
    if both:
        raise _error("expect.never", f"{both[0]} cannot be both performed and never performed.")
    if never:
        found["never"] = never
    if expect.get("clarify") is not None:
        if not isinstance(expect["clarify"], bool):
            raise _error("expect.clarify", "“clarify” must be true or false.")
        found["clarify"] = expect["clarify"]
    return found


def clean_runs(runs) -> int:
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= SCENARIO_RUNS_MAX:
        raise _error("runs", f"Runs must be a whole number from 1 to {SCENARIO_RUNS_MAX}.")
    return runs


def clean_pass_rate(rate) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= 100:
        raise _error("pass_rate", "The pass rate must be a whole number from 0 to 100 (%).")
    return rate


def expect_words(expect: dict) -> list[str]:
    """The expectation in owners' words, one phrase each."""
    words = []
    if "job" in expect:
        job = f"“{expect['job']}”" if expect["job"] else "No job"
        when = f" at turn {expect['at_turn']}" if expect.get("at_turn") else " by the end"
        words.append(f"{job}{when}")
    for action in expect.get("actions", []):
        target = expect.get("transfer_to") if action == "transfer_call" else ""
        words.append(f"{ACTION_LABELS[action]}" + (f" to {target}" if target else ""))
    words += [f"Never {ACTION_LABELS[a]}" for a in expect.get("never", [])]
    if "clarify" in expect:
        words.append("Asks which job" if expect["clarify"] else "Never asks which job")
    return words


# Running -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    passed: bool
    failed_turn: int | None  # the turn where it went wrong (1 = first); None: passed, or before
    problem: str  # "Turn 2: expected …; Sona …"; "" when it passed
    turns: tuple[mock.Turn, ...]  # the replay (of the failing run, if one failed)
    runs: int = 1  # how many times it ran (more than once only with the LLM router)
    passes: int = 1  # how many runs passed
    scenario: Scenario | None = field(default=None, compare=False)

    @property
    def handled_by(self) -> str | None:
        """The name of the job that handled the replay by the end (None: no job)."""
        turn = _handled(self.turns)
        return turn.job.name if turn else None


def _handled(turns: Sequence[mock.Turn]) -> mock.Turn | None:
    """The turn whose job handled the call so far (as a stored mock call says, services.py):
    the last turn with a job, unless the call ends on Sona's question."""
    if turns and turns[-1].clarify:
        return None
    return next((t for t in reversed(turns) if t.job is not None), None)


def _standing(turns: Sequence[mock.Turn]) -> str | None:
    turn = _handled(turns)
    return turn.job.name if turn else None


def _offers(turn: mock.Turn, wanted: str | None) -> bool:
    return wanted in {o.name for o in turn.decision.options}


def _wrong(standing: str | None, turn: mock.Turn, wanted: str | None) -> bool:
    return standing != wanted or (wanted is None and turn.clarify)


def _decided(turn: mock.Turn | None, *, at_end: bool = False) -> str:
    """What Sona did, in words, for a failure's second half."""
    if turn is None:
        return "Sona picked no job"
    if turn.clarify:
        return f"Sona asked “{turn.decision.question}”"
    if turn.job is None:
        return "Sona picked no job"
    return f"Sona {'ended on' if at_end else 'picked'} “{turn.job.name}”"


def _performed(turn: mock.Turn, action: str) -> list[tuple[job_actions.Action, str]]:
    """The actions of type `action` the turn's job contains, with how the walkthrough shows
    each ("Transfer call to Front desk (+15555550100)")."""
    if turn.job is None or turn.walkthrough is None:
        return []
    parsed = job_actions.parse(turn.job.instructions)
    shown = turn.walkthrough.actions
    return [
        (a, shown[i].label if i < len(shown) else ACTION_LABELS[a.type])
        for i, a in enumerate(parsed)
        if a.type == action
    ]


def _would(label: str, action: job_actions.Action) -> str:
    if action.type == "send_sms":
        return f"Sona would send an SMS: “{action.message}”"
    return "Sona would " + label[:1].lower() + label[1:]


def _goes_to(action: job_actions.Action, target: str, region: str) -> bool:
    if action.type != "transfer_call":
        return False
    if "@" in target:
        return action.to == "member" and action.target.strip().lower() == target
    try:
        return normalize_phone(action.target, region=region) == target
    except ValidationError:
        return False


def _problems(goal: mock.Target, expect: dict, turns: list[mock.Turn]):
    """(turn, what went wrong) for each expectation the replay misses; turn None: before any."""
    last = len(turns)
    region = goal.call_flow.phone_number.workspace.country
    names = {j.name for j in goal.jobs.values()}
    wanted = expect.get("job")
    if wanted and wanted not in names:
        yield None, f"Expects “{wanted}”, which is not attached to {goal.step_name}."
        return
    if "job" in expect and expect.get("at_turn"):
        at = expect["at_turn"]
        turn = turns[at - 1] if at <= last else None
        got = turn.job.name if turn and turn.job else None
        if got != wanted or (wanted is None and turn is not None and turn.clarify):
            want = f"“{wanted}”" if wanted else "no job"
            yield at, f"expected {want}; {_decided(turn)}"
    elif "job" in expect:
        # Where the call stands after each turn: on a job, on no job, or on Sona's question
        # (neither: a question is no pass for a job, nor for "no job").
        ended = [_standing(turns[: k + 1]) for k in range(last)]
        if ended[-1] != wanted or (wanted is None and turns[-1].clarify):
            went = last  # the first turn from which the call stayed wrong to the end
            while went > 1 and _wrong(ended[went - 2], turns[went - 2], wanted):
                if turns[went - 2].clarify and _offers(turns[went - 2], wanted):
                    break  # a question offering the right job is not where it went wrong
                went -= 1
            want = f"“{wanted}”" if wanted else "no job"
            turn = turns[went - 1]
            if went == last and turn.clarify and _offers(turn, wanted):
                yield went, f"expected {want} by the end; {_decided(turn)} instead of choosing it"
            else:
                yield went, f"expected {want} by the end; {_decided(turn)}"
    if "clarify" in expect:
        asked = [k for k, t in enumerate(turns, start=1) if t.clarify]
        if expect["clarify"] and not asked:
            yield last, "expected a clarifying question; Sona never asked which job"
        if not expect["clarify"] and asked:
            turn = turns[asked[0] - 1]
            yield asked[0], f"expected no clarifying question; {_decided(turn)}"
    for action in expect.get("actions", []):
        done = [(k, a, label) for k, t in enumerate(turns, 1) for a, label in _performed(t, action)]
        target = expect.get("transfer_to") if action == "transfer_call" else None
        if target is not None:
            if not any(_goes_to(a, target, region) for _, a, _ in done):
                other = f"; {_would(done[0][2], done[0][1])}" if done else ""
                yield last, f"expected a transfer to {target}{other or '; Sona would not transfer'}"
        elif not done:
            on = _handled(turns)
            where = f" (on “{on.job.name}”)" if on else ""
            yield last, f"expected {action}; Sona would not perform it{where}"
    for action in expect.get("never", []):
        done = [(k, a, label) for k, t in enumerate(turns, 1) for a, label in _performed(t, action)]
        if done:
            turn, act, label = done[0]
            yield turn, f"expected no {action}; {_would(label, act)}"


def _run_once(goal: mock.Target, scenario: Scenario, numbers: dict) -> ScenarioResult:
    said = list(scenario.turns)
    # Replies are not generated: a scenario checks decisions and actions, not Sona's words.
    turns = mock.mock_turns(goal, said, numbers=numbers, speak=False)
    problems = list(_problems(goal, scenario.expect or {}, turns))
    if not problems:
        return ScenarioResult(True, None, "", tuple(turns), scenario=scenario)
    order = {p: i for i, p in enumerate(problems)}
    turn, text = min(problems, key=lambda p: (p[0] or 0, order[p]))
    problem = f"Turn {turn}: {text}." if turn else text
    return ScenarioResult(False, turn, problem, tuple(turns), passes=0, scenario=scenario)


def _varies(result: ScenarioResult) -> bool:
    """Whether another run could decide otherwise: an LLM decided some turn."""
    return any(t.decision.backend != "builtin" for t in result.turns)


def run_scenario(
    goal: mock.Target, scenario: Scenario, *, numbers: dict | None = None
) -> ScenarioResult:
    """Replay `scenario` against `goal` and check its expectations (see the module's doc).
    Runs once with the built-in router; `scenario.runs` times while an LLM decides, passing
    when at least `scenario.pass_rate` % of the runs pass. `numbers`: the workspace's numbers
    (mock.workspace_numbers), read once for many scenarios."""
    if numbers is None:
        numbers = mock.workspace_numbers(goal.call_flow)
    first = _run_once(goal, scenario, numbers)
    results = [first]
    if scenario.runs > 1 and _varies(first):
        results += [_run_once(goal, scenario, numbers) for _ in range(scenario.runs - 1)]
    passes = sum(1 for r in results if r.passed)
    passed = passes * 100 >= scenario.pass_rate * len(results)
    shown = next((r for r in results if not r.passed), first)
    problem = shown.problem
    if len(results) > 1 and not passed:
        problem = f"Passed {passes} of {len(results)} runs (needs {scenario.pass_rate}%). {problem}"
    elif passed:
        problem = ""
    return ScenarioResult(
        passed,
        None if passed else shown.failed_turn,
        problem,
        shown.turns,
        runs=len(results),
        passes=passes,
        scenario=scenario,
    )


def run_scenarios(goal: mock.Target, scenarios: Iterable[Scenario]) -> list[ScenarioResult]:
    """The scenarios of the goal's step, run (the workspace's numbers read once)."""
    mine = [s for s in scenarios if s.step_key == goal.step_key]
    if not mine:
        return []
    numbers = mock.workspace_numbers(goal.call_flow)
    return [run_scenario(goal, s, numbers=numbers) for s in mine]


def step_scenarios(*, call_flow: CallFlow, step_key: str) -> list[Scenario]:
    return list(Scenario.objects.filter(call_flow=call_flow, step_key=step_key).order_by("pk"))


@dataclass(frozen=True)
class SideBySide:
    scenario: Scenario
    draft: ScenarioResult
    live: ScenarioResult | None  # None: no live version, or the live version lacks the step

    @property
    def differs(self) -> bool:
        if self.live is None:
            return False
        return _outcome(self.draft) != _outcome(self.live)


def _outcome(result: ScenarioResult) -> tuple:
    """What a replay decided, turn by turn: the decision, its job, the jobs a question offered."""
    return tuple(
        (t.kind, t.job.pk if t.job else None, tuple(o.id for o in t.decision.options))
        for t in result.turns
    )


def run_side_by_side(
    *, call_flow: CallFlow, step_key: str, draft_goal: mock.Target | None = None
) -> list[SideBySide]:
    """A step's scenarios against the draft (`draft_goal`, if the caller has it) and the live
    version, for the Tests tab."""
    scenarios = step_scenarios(call_flow=call_flow, step_key=step_key)
    if draft_goal is None:
        draft_goal = mock.target(call_flow=call_flow, version=mock.DRAFT, step_key=step_key)
    draft = run_scenarios(draft_goal, scenarios)
    try:
        live_goal = mock.target(call_flow=call_flow, version=mock.LIVE, step_key=step_key)
    except ValidationError:
        live = [None] * len(draft)
    else:
        live = run_scenarios(live_goal, scenarios)
    return [SideBySide(d.scenario, d, lv) for d, lv in zip(draft, live, strict=True)]


def snapshot_results(call_flow: CallFlow, snapshot: dict) -> list[tuple[str, ScenarioResult]]:
    """(step name, result) of every scenario against the snapshot's Sona steps (the publish
    gate, `run_scenarios --version N`). A scenario of a step the snapshot lacks waits for it
    (a rollback may bring the step back)."""
    scenarios = list(Scenario.objects.filter(call_flow=call_flow).order_by("step_key", "pk"))
    if not scenarios:
        return []
    steps = mock.snapshot_steps(call_flow, snapshot)
    greeting = mock.greeting_of(snapshot)
    numbers = mock.workspace_numbers(call_flow)
    found = []
    for scenario in scenarios:
        step = steps.get(scenario.step_key)
        if step is None:
            continue
        goal = mock.Target(
            call_flow,
            mock.DRAFT,
            None,
            step.key,
            step.name,
            step.jobs,
            step.candidates,
            (),
            greeting=greeting,
        )
        found.append((step.name, run_scenario(goal, scenario, numbers=numbers)))
    return found


def failing_scenarios(call_flow: CallFlow, snapshot: dict) -> list[tuple[str, ScenarioResult]]:
    """The scenarios the snapshot fails (the publish gate)."""
    return [(name, r) for name, r in snapshot_results(call_flow, snapshot) if not r.passed]


# Files (YAML): import_scenarios / export_scenarios ------------------------------------------

FILE_KEYS = ("step", "scenarios")
RECORD_KEYS = ("name", "turns", "expect", "runs", "pass_rate")


def parse_file(text: str) -> tuple[str, list[dict]]:
    """(step key, "" for the first Sona step; the scenarios as keyword arguments) of a
    scenarios file:

        step: ""            # a Sona step key; empty or left out: the first Sona step
        scenarios:
          - name: Rescheduling goes to the right job
            turns: ["hi I need to move my appointment", "tomorrow at 3 works"]
            expect: {job: Reschedule or cancel, actions: [send_sms], never: [transfer_call]}

    Only the shape is checked here; the fields are checked by the import service."""
    import yaml

    try:
        check_text(text, "The file")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it cannot be read"
        raise ValidationError(f"The file is not valid YAML{where}: {problem}.") from None
    if not isinstance(data, dict):
        raise ValidationError("The file must be a mapping with “step” and “scenarios”.")
    unknown = [str(k) for k in data if k not in FILE_KEYS]
    if unknown:
        raise ValidationError(
            f"“{unknown[0]}” is not a key of a scenarios file: use step, scenarios."
        )
    step = data.get("step") or ""
    if not isinstance(step, str):
        raise ValidationError("step: a Sona step's key, as text (empty: the first Sona step).")
    records = data.get("scenarios")
    if not isinstance(records, list) or not records:
        raise ValidationError("scenarios: a list of at least one scenario.")
    found = []
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ValidationError(f"Scenario {index}: a mapping with name, turns and expect.")
        unknown = [str(k) for k in record if k not in RECORD_KEYS]
        if unknown:
            raise file_error(
                index,
                record.get("name"),
                _error(unknown[0], f"not a field of a scenario: use {', '.join(RECORD_KEYS)}"),
            )
        found.append(
            {
                "name": record.get("name"),
                "turns": record.get("turns"),
                "expect": record.get("expect"),
                "runs": record.get("runs", 1),
                "pass_rate": record.get("pass_rate", 100),
            }
        )
    return step.strip(), found


def file_error(index: int, name, exc: ValidationError, text: str = "") -> ValidationError:
    """“Scenario 2 (“Wrong number”), expect.job: There is no job named …”."""
    called = f" (“{name}”)" if isinstance(name, str) and name.strip() else ""
    if hasattr(exc, "error_dict"):
        field_name, errors = next(iter(exc.message_dict.items()))
        message = text or " ".join(errors)
        return ValidationError(f"Scenario {index}{called}, {field_name}: {message}")
    return ValidationError(f"Scenario {index}{called}: {text or ' '.join(exc.messages)}")


def dump_file(step_key: str, items: Iterable[Scenario]) -> str:
    """The file `parse_file` reads, for these scenarios of one step (round-trips)."""
    import yaml

    records = []
    for scenario in items:
        record = {"name": scenario.name, "turns": list(scenario.turns)}
        expect = scenario.expect or {}
        record["expect"] = {k: expect[k] for k in EXPECT_KEYS if k in expect}
        if scenario.runs != 1:
            record["runs"] = scenario.runs
        if scenario.pass_rate != 100:
            record["pass_rate"] = scenario.pass_rate
        records.append(record)
    return yaml.safe_dump(
        {"step": step_key, "scenarios": records},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def remember(rows: Sequence[SideBySide]) -> None:
    """Keep each scenario's last result from the Tests tab (one query; no audit event: a run
    changes nothing that matters)."""
    from django.utils import timezone

    now = timezone.now()

    def brief(result: ScenarioResult | None):
        if result is None:
            return None
        return {"passed": result.passed, "problem": result.problem, "turn": result.failed_turn}

    for row in rows:
        row.scenario.last_run = {"draft": brief(row.draft), "live": brief(row.live)}
        row.scenario.last_run_at = now
    if rows:
        Scenario.objects.bulk_update([r.scenario for r in rows], ["last_run", "last_run_at"])


# Names and calls ----------------------------------------------------------------------------


def name_from(said: str, taken: set[str]) -> str:
    """A name like the sentence, unique among `taken` (lowered names; the new one is added)."""
    base = " ".join(said.split())[:SCENARIO_NAME_MAX] or "Scenario"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: SCENARIO_NAME_MAX - len(suffix)].rstrip() + suffix
    taken.add(name.lower())
    return name


_SPEAKER = re.compile(r"^\s*(caller|customer|user)\s*(\[[^\]]*\])?\s*:\s*(?P<said>.*)$", re.I)


def caller_turns(transcript: str) -> list[str]:
    """The caller's lines of a call's transcript ("Caller: …", as mock calls store it; the
    runtime's "Customer:" or "User:" too), each cut to 500 characters, the first 12."""
    found = []
    for line in (transcript or "").splitlines():
        match = _SPEAKER.match(line)
        if match and match["said"].strip():
            found.append(" ".join(match["said"].split())[:SAID_MAX])
    return found[:SCENARIO_TURNS_MAX]
