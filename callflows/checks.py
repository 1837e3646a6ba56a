"""Checks before publish: the problems of a snapshot (the draft, or a version published again).

    draft_problems(call_flow) -> [Problem(level="error" | "warning", message, step, job), ...]

Errors block publishing (callflow_publish and callflow_rollback refuse; the preview hides the
Publish button); warnings are shown and publishing goes on. Reads only: the service, the
publish preview and the `publish_callflow` command all ask this one module.

Decisions:
- A Sona step with no jobs is a **warning**: Sona still greets callers and may answer from its
  knowledge, and a flow is built step by step (a new number starts with an empty Sona step).
  An error would block knowledge-only steps and every first publish of a new number.
- Facts that belong in knowledge are counted over the **jobs attached to this snapshot** (each
  job once, however many steps have it): those are what this publish makes live, so the
  warning is about this phone line, not about the whole library.
- Rollback runs the same checks on the version's snapshot: job and knowledge text is not
  frozen, so an old version goes live with today's text and today's actions, and can be just
  as broken as a draft.
"""

import re
from dataclasses import dataclass

from jobs import actions
from jobs.models import Job
from jobs.optimizer.facts import DOMAIN_RE, PRICE_RE, TIME_RE, URL_RE, facts
from jobs.selectors import action_context
from knowledge.models import KnowledgePage

from .models import CallFlow, StepKind
from .snapshots import build_snapshot

ERROR = "error"
WARNING = "warning"
PUBLISH_BLOCKED = "Cannot publish: fix these errors first (warnings do not block publishing)."

# A fact in this many jobs or more belongs in a knowledge page.
FACT_REPEAT_JOBS = 3

# The fact kinds (jobs/optimizer/facts.py) that are knowledge: prices, times, URLs; addresses
# are not a facts.py kind, so they are found here ("120 Main Street").
KNOWLEDGE_KINDS = ("price", "time", "url")
ADDRESS_RE = re.compile(
    r"\b\d{1,6}(?:[ \t]+[A-Z][\w'-]*){1,4}[ \t]+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd"
    r"|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Parkway|Pkwy|Square|Sq)\b"
)
# How each kind's raw text is found again in a job (the same patterns facts.py uses), to quote it.
_FIND = {
    "price": (PRICE_RE, lambda v: v.replace(" ", "")),
    "time": (TIME_RE, lambda v: v.lower().replace(" ", "").replace(".", "")),
    "url": (
        re.compile(f"{URL_RE.pattern}|{DOMAIN_RE.pattern}", re.I),
        lambda v: v.rstrip(".,;:!?)'"),
    ),
    "address": (ADDRESS_RE, lambda v: _address_value(v)),
}
_WORDS_AFTER = re.compile(r"(?:[ \t]+[A-Za-z][\w'-]*){1,2}")
_WORDS_BEFORE = re.compile(r"(?:[A-Za-z][\w'-]*[ \t]+){1,2}$")


@dataclass(frozen=True)
class Problem:
    level: str  # ERROR or WARNING
    message: str  # a sentence for people: pages, the command, the service's refusal
    step: str = ""  # the step's name, when the problem is about one step
    job: str = ""  # the job's name, when it is about one job
    job_id: int | None = None  # for a link to the job's editor

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


def draft_problems(call_flow: CallFlow, snapshot: dict | None = None) -> list[Problem]:
    """The problems publishing would put live, errors first. `snapshot` defaults to the draft's
    (callflows.snapshots.build_snapshot); rollback passes the version's. Queries: the draft
    (two, unless given), the attached jobs (one), plus what the hooks below read. The registered
    warnings (more_warnings: confusable jobs) are asked for separately by the pages that show
    them, since publishing itself never needs them."""
    if snapshot is None:
        snapshot = build_snapshot(call_flow)
    steps = [s for s in snapshot.get("steps", []) if isinstance(s, dict)]
    sona_steps = [s for s in steps if s.get("kind") == StepKind.SONA]
    jobs = _jobs(snapshot, call_flow.phone_number.workspace_id)  # one query for both checks
    problems = (
        _empty_sona_steps(sona_steps)
        + _facts_for_knowledge(jobs)
        + action_problems(call_flow, snapshot, jobs=jobs)
        + knowledge_problems(call_flow, snapshot)
    )
    return sorted(problems, key=lambda p: not p.is_error)  # stable: errors first, in order


# Failing scenarios (tests) block publishing unless the publisher overrides them with a reason. They
# belong to the calls app, which registers its gate here (callflows never imports calls).
TESTS_FAILED = (
    "Cannot publish: scenarios fail. Fix them, or tick “Publish anyway” and give a reason."
)
_test_gates: list = []
_warning_sources: list = []


def register_test_gate(gate) -> None:
    """`gate(call_flow, snapshot) -> [Problem]`: the failing scenarios of a snapshot."""
    if gate not in _test_gates:
        _test_gates.append(gate)


def register_warnings(source) -> None:
    """`source(call_flow, snapshot) -> [Problem]`: more warnings (calls: confusable jobs)."""
    if source not in _warning_sources:
        _warning_sources.append(source)


def test_failures(call_flow: CallFlow, snapshot: dict) -> list[Problem]:
    return [problem for gate in _test_gates for problem in gate(call_flow, snapshot)]


def more_warnings(call_flow: CallFlow, snapshot: dict) -> list[Problem]:
    return [problem for source in _warning_sources for problem in source(call_flow, snapshot)]


def step_warnings(call_flow: CallFlow, step, job_ids: list[int]) -> list[Problem]:
    """The registered warnings about one draft Sona step (its jobs panel shows them)."""
    snapshot = {"steps": [{"key": step.key, "kind": step.kind, "name": step.name, "jobs": job_ids}]}
    return more_warnings(call_flow, snapshot) if len(job_ids) > 1 else []


def errors_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def action_problems(
    call_flow: CallFlow, snapshot: dict, *, jobs: list[Job] | None = None
) -> list[Problem]:
    """Errors in the actions of the snapshot's jobs: markers that are malformed or name a
    missing member or number (quoted, with what is wrong), and SMS sent from a number not
    registered for SMS (a live flow never sends from an unregistered number)."""
    phone = call_flow.phone_number
    if jobs is None:
        jobs = _jobs(snapshot, phone.workspace_id)
    problems = []
    marked = [job for job in jobs if actions.has_markers(job.instructions)]
    if marked:
        context = action_context(workspace=phone.workspace)
        for job in marked:
            problems += [
                Problem(ERROR, f"“{job.name}”: {problem}", job=job.name, job_id=job.pk)
                for problem in actions.find_problems(job.instructions, context=context)
            ]
    return problems + sms_problems(call_flow, snapshot, jobs=jobs)


def _jobs(snapshot: dict, workspace_id: int) -> list[Job]:
    """The snapshot's jobs in step order, each once (one query)."""
    steps = [s for s in snapshot.get("steps", []) if isinstance(s, dict)]
    ids = [j for step in steps for j in step.get("jobs") or [] if isinstance(j, int)]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = Job.objects.filter(pk__in=ids, workspace_id=workspace_id).in_bulk()
    return [found[pk] for pk in ids if pk in found]


def sms_problems(
    call_flow: CallFlow, snapshot: dict, *, jobs: list[Job] | None = None
) -> list[Problem]:
    """Jobs of the snapshot that send SMS from a number not registered for SMS."""
    phone = call_flow.phone_number
    if phone.sms_registered:
        return []
    if jobs is None:
        jobs = _jobs(snapshot, phone.workspace_id)
    return [
        Problem(
            ERROR,
            f"“{job.name}” sends an SMS, but {phone.display_name} ({phone.number}) is not "
            "registered for SMS. Mark the number as SMS registered once its registration is "
            "done, or remove the Send SMS action.",
            job=job.name,
            job_id=job.pk,
        )
        for job in jobs
        if any(a.type == "send_sms" for a in actions.parse(job.instructions))
    ]


def knowledge_problems(call_flow: CallFlow, snapshot: dict) -> list[Problem]:
    """An attached knowledge page with no text is an error naming the page and the step (Sona
    would quote nothing); a page attached to several steps is fine. One query, none without
    pages."""
    steps = [s for s in snapshot.get("steps", []) if isinstance(s, dict)]
    attached = [(step, p) for step in steps for p in step.get("knowledge") or []]
    if not attached:
        return []
    empty = dict(
        KnowledgePage.objects.filter(
            pk__in={p for _, p in attached},
            workspace_id=call_flow.phone_number.workspace_id,
            body__regex=r"^\s*$",
        ).values_list("pk", "title")
    )
    return [
        Problem(
            ERROR,
            f"The knowledge page “{empty[p]}” on “{step.get('name', '')}” is empty: write its "
            "text or detach it.",
            step=step.get("name", ""),
        )
        for step, p in attached
        if p in empty
    ]


# The checks -----------------------------------------------------------------------------------


def _empty_sona_steps(sona_steps: list[dict]) -> list[Problem]:
    return [
        Problem(
            WARNING,
            f"“{s.get('name', '')}” has no jobs: Sona will greet callers but follow no job. "
            "Attach jobs to it, or remove the step.",
            step=str(s.get("name", "")),
        )
        for s in sona_steps
        if not s.get("jobs")
    ]


def _facts_for_knowledge(jobs: list[Job]) -> list[Problem]:
    """A price, time, URL or address written in FACT_REPEAT_JOBS or more attached jobs."""
    if len(jobs) < FACT_REPEAT_JOBS:
        return []
    holders: dict[tuple[str, str], list[Job]] = {}  # fact -> jobs holding it, first seen first
    for job in jobs:
        for fact in _knowledge_facts(job.instructions):
            holders.setdefault(fact, []).append(job)
    problems = []
    for (kind, value), with_it in holders.items():
        if len(with_it) < FACT_REPEAT_JOBS:
            continue
        names = ", ".join(f"“{j.name}”" for j in with_it)
        quote = _quote(with_it[0].instructions, kind, value)
        problems.append(
            Problem(
                WARNING,
                f"Move '{quote}' into a knowledge page: it is repeated in {len(with_it)} jobs "
                f"({names}). Edit it once there instead of in every job.",
                job=with_it[0].name,
                job_id=with_it[0].pk,
            )
        )
    return problems


def _address_value(text: str) -> str:
    return " ".join(text.split()).lower()


def _knowledge_facts(text: str) -> list[tuple[str, str]]:
    """The facts of a job's text that belong in knowledge, in a stable order."""
    kept = sorted(f for f in facts(text) if f[0] in KNOWLEDGE_KINDS)
    addresses = {("address", _address_value(m.group())) for m in ADDRESS_RE.finditer(text)}
    return kept + sorted(addresses)


def _quote(text: str, kind: str, value: str) -> str:
    """The fact as written; a price or time with up to two words after it ("$149 emergency
    fee"), or before it when nothing follows ("call back after 5pm")."""
    pattern, normalize = _FIND[kind]
    match = next((m for m in pattern.finditer(text) if normalize(m.group()) == value), None)
    if match is None:  # written in a shape the pattern reads differently: quote the value
        return value
    if kind in ("url", "address"):  # whole already: words around a URL say nothing
        return match.group().rstrip(".,;:!?)'")
    after = _WORDS_AFTER.match(text, match.end())
    if after:
        return match.group() + after.group()
    before = _WORDS_BEFORE.search(text[: match.start()])
    return (before.group() if before else "") + match.group()
