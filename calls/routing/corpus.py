"""Routing corpora (<shared>/routing/*.json, bench/data/routing_*.json) for the bench and the
tests: a business is its jobs and what callers say, with the job a careful receptionist would
pick (None: no job fits). A file holds one business object or a list of them.

<shared> is the folder beside the project root (`../shared`, as CI lays it out), or
$PLAYBOOK_SHARED_DIR. The suite never needs it: bench/data/routing_shared/ holds a copy of the
routing files the tests read. Every reader finds its folder through `routing_dir`."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import Candidate

ROOT = Path(__file__).resolve().parents[2]  # the project root
BUNDLED = ROOT / "bench" / "data" / "routing_shared"  # the copy the test suite reads


def shared_dir() -> Path:
    """The shared folder: $PLAYBOOK_SHARED_DIR, or `shared` beside the project root."""
    return Path(os.environ.get("PLAYBOOK_SHARED_DIR") or ROOT.parent / "shared")


def routing_dir(*, bundled: bool = False) -> Path:
    """The routing corpora (*.json, and the tuning set in dev/): <shared>/routing when it is
    there, else the copy in bench/data/routing_shared; always the copy with `bundled` (the
    tests, so that their figures do not depend on the machine)."""
    shared = shared_dir() / "routing"
    return BUNDLED if bundled or not shared.is_dir() else shared


@dataclass(frozen=True)
class Business:
    name: str
    candidates: tuple[Candidate, ...]
    utterances: tuple[tuple[str, str | None], ...]  # (what the caller says, expected job name)


def load(*paths: Path) -> list[Business]:
    found = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for business in data if isinstance(data, list) else [data]:
            candidates = tuple(
                Candidate(
                    i,
                    job["name"],
                    job.get("trigger", ""),
                    job.get("description", ""),
                    job.get("instructions", ""),
                )
                for i, job in enumerate(business["jobs"], 1)
            )
            utterances = tuple((u["say"], u["expect"]) for u in business["utterances"])
            found.append(Business(business["business"], candidates, utterances))
    return found


def misses(businesses, route) -> tuple[int, list[tuple[str, str, str | None, str | None]]]:
    """(number of utterances, [(business, said, expected, got)]) with `route(candidates, said)`
    returning a Decision."""
    total, wrong = 0, []
    for business in businesses:
        for said, expected in business.utterances:
            total += 1
            decision = route(business.candidates, said)
            got = decision.job.name if decision.job else None
            if got != expected:
                wrong.append((business.name, said, expected, got))
    return total, wrong
