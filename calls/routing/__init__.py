"""The router: which of a Sona step's jobs fits what the caller says.

One function, `route`, serves mock calls and the live line alike (calls/selectors/mock.py and the
runtime's POST /api/v1/numbers/<e164>/route), so a mock call shows what a real call would do.
Callers pass plain `Candidate`s (no models), so the router can be used and measured without a
database: bench/routing.py and tests/calls/test_routing*.py do.

It answers one of three decisions: JOB (with the job and how sure, in words), CLARIFY (two jobs
are close: the two options and the question Sona asks; the caller's next turn, routed with
`options`, settles it) or NONE (no attached job fits).

Settings: ROUTER_BACKEND ("builtin" | "llm", or the dotted path of a class with a
route() method: engine.ROUTER). The built-in router's thresholds
are constants in calls/routing/builtin.py, calibrated by bench/routing.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

JOB, CLARIFY, NONE = "job", "clarify", "none"
DECISIONS = (JOB, CLARIFY, NONE)
SURE, LIKELY, UNSURE = "Sure", "Likely", "Unsure"


@dataclass(frozen=True)
class Candidate:
    """What the router reads of one job."""

    id: int
    name: str
    trigger: str = ""  # the caller intent
    description: str = ""
    instructions: str = ""
    examples: tuple[str, ...] = ()  # what callers said in the owner's test cases for this job
    # Stored unit vectors of routed_texts(self), one row each (calls/vectors.py); None: the
    # router embeds them itself (bench, tests). Not part of equality: the texts are.
    vectors: Any = field(default=None, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Match:
    id: int
    name: str
    score: float  # 0..1, calibrated: comparable across steps
    why: tuple[str, ...] = ()  # in words: the caller's words that matched, the nearest sentence


@dataclass(frozen=True)
class Decision:
    decision: str  # JOB, CLARIFY or NONE
    job: Match | None  # the chosen job (decision JOB), else None
    runner_up: Match | None  # JOB: the next best; CLARIFY: the second option; NONE: the closest
    ranking: tuple[Match, ...]  # every candidate, best first
    options: tuple[Match, ...] = ()  # CLARIFY: the two jobs Sona asks between
    question: str = ""  # CLARIFY: what Sona asks
    confidence: str = ""  # JOB: SURE, LIKELY or UNSURE, from the calibrated score
    continued: bool = False  # the caller's earlier job was kept (no clear change of intent)
    backend: str = "builtin"
    notice: str = ""  # set when the LLM backend failed and the built-in one answered

    @property
    def no_job(self) -> bool:
        return self.decision == NONE

    @property
    def clarify(self) -> bool:
        return self.decision == CLARIFY


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    score: float
    page_id: int | None = None


@dataclass(frozen=True)
class Overlap:
    """Callers saying `phrase` (meant for `expected`) may reach `reached` instead."""

    phrase: str
    expected: Match
    reached: Match
    suggestions: tuple[str, ...] = field(default=())
    decision: str = JOB  # what routing `phrase` decides (JOB, CLARIFY or NONE)


def route(
    candidates: Sequence[Candidate],
    said: str,
    history: Sequence[str] = (),
    current: int | None = None,
    options: Sequence[int] = (),
) -> Decision:
    """Decide for what the caller `said` (earlier turns in `history`); `current` is the job
    chosen on an earlier turn, kept unless the caller clearly changes intent; `options` are the
    two job ids of the last turn's CLARIFY, which this turn settles."""
    from .engine import route as _route

    return _route(candidates, said, history, current, tuple(options))


def routed_texts(candidate: Candidate) -> tuple[str, ...]:
    """The texts of a job the built-in router embeds (its vectors, stored per text)."""
    from .builtin import routed_texts as _texts

    return _texts(candidate)


def embed(texts: Sequence[str]):
    """Unit vectors (numpy, one row per text) from the router's model (calls/routing/minilm.py)."""
    from .minilm import encode

    return encode(list(texts))


def model_id() -> str:
    from .minilm import MODEL_ID

    return MODEL_ID


def passages(pages: Sequence[tuple[int, str, str]], said: str, limit: int = 3) -> list[Passage]:
    """The best passages of (page id, title, body) pages for what the caller said."""
    from .engine import passages as _passages

    return _passages(pages, said, limit)


def overlaps(candidates: Sequence[Candidate]) -> list[Overlap]:
    """Pairs of jobs callers could confuse, probed with each job's caller intent and examples."""
    from .engine import overlaps as _overlaps

    return _overlaps(candidates)


def pulls(candidates: Sequence[Candidate]):
    """Examples (test cases) that the router, without them, sends to another job: likely
    wrong labels (engine.Pull)."""
    from .engine import pulls as _pulls

    return _pulls(tuple(candidates))


def health(candidates: Sequence[Candidate]):
    """Routing health: each job's examples routed without themselves (engine.HealthRow)."""
    from .engine import health as _health

    return _health(tuple(candidates))
