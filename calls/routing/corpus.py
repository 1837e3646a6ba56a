"""Routing corpora (/work/shared/routing/*.json, bench/data/routing_*.json) for the bench and
the tests: a business is its jobs and what callers say, with the job a careful receptionist
would pick (None: no job fits). A file holds one business object or a list of them."""

import json
from dataclasses import dataclass
from pathlib import Path

from . import Candidate


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
