"""The router: which of a Sona step's jobs fits what the caller says.

One function, `route`, serves mock calls and the live line alike (calls/services.py and the
runtime's POST /api/v1/numbers/<e164>/route), so a mock call shows what a real call would do.
Callers pass plain `Candidate`s (no models), so the router can be used and measured without a
database: bench/routing.py and tests/calls/test_routing*.py do.

Settings: ROUTER_BACKEND ("builtin" | "llm"), ROUTER_NO_JOB_BELOW (a score under it is "no
job"), ROUTER_AMBIGUOUS_MARGIN (a runner-up within it of the chosen job makes it "ambiguous").
"""

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """What the router reads of one job."""

    id: int
    name: str
    trigger: str = ""  # the caller intent
    description: str = ""
    instructions: str = ""
    examples: tuple[str, ...] = ()  # what callers said in the owner's test cases for this job


@dataclass(frozen=True)
class Match:
    id: int
    name: str
    score: float  # 0..1
    why: tuple[str, ...] = ()  # the words/phrases that matched, or the nearest sentence


@dataclass(frozen=True)
class Decision:
    job: Match | None  # None: no job fits (or no candidates)
    runner_up: Match | None
    ranking: tuple[Match, ...]  # every candidate, best first
    ambiguous: bool
    continued: bool = False  # the caller's earlier job was kept (no clear change of intent)
    backend: str = "builtin"
    notice: str = ""  # set when the LLM backend failed and the built-in one answered

    @property
    def no_job(self) -> bool:
        return self.job is None


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


def route(
    candidates: Sequence[Candidate],
    said: str,
    history: Sequence[str] = (),
    current: int | None = None,
) -> Decision:
    """Rank `candidates` for what the caller `said` (earlier turns in `history`); `current` is
    the job chosen on an earlier turn, kept unless the caller clearly changes intent."""
    from .engine import route as _route

    return _route(candidates, said, history, current)


def passages(pages: Sequence[tuple[int, str, str]], said: str, limit: int = 3) -> list[Passage]:
    """The best passages of (page id, title, body) pages for what the caller said."""
    from .engine import passages as _passages

    return _passages(pages, said, limit)


def overlaps(candidates: Sequence[Candidate]) -> list[Overlap]:
    """Pairs of jobs callers could confuse, probed with each job's caller intent and examples."""
    from .engine import overlaps as _overlaps

    return _overlaps(candidates)
