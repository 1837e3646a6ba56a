"""What POST /api/v1/numbers/<e164>/route routes against: the live version's Sona steps.

Built from the same live body /live serves (callflows/live.py: addressed by the number's live
generation, so never stale) plus the owners' test cases, which are examples of a job's intent
(saving or deleting one bumps the generation), and the stored vectors of their texts, all by
calls/candidates.py as for mock calls. Kept per process under (phone id, generation): a hit
costs no query beyond the request's one lookup, and a turn embeds only what the caller said."""

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from callflows import live

from . import routing
from .candidates import steps_candidates

LOCAL_INDEXES = 64
LOCAL_DECISIONS = 4096


@dataclass(frozen=True)
class StepIndex:
    key: str
    name: str
    candidates: tuple[routing.Candidate, ...]
    actions: dict[int, list]  # job id → its parsed actions, as /live serves them


@dataclass(frozen=True)
class Index:
    generation: int  # the number's live generation this index was built from
    version: int | None
    steps: dict[str, StepIndex]  # Sona steps by key, in flow order

    def step(self, key: str = "") -> StepIndex | None:
        if not key:
            return next(iter(self.steps.values()), None)
        return self.steps.get(key)


_indexes: OrderedDict[tuple[int, int], Index] = OrderedDict()
_lock = threading.Lock()


def index(phone_id: int, generation: int) -> Index:
    key = (phone_id, generation)
    with _lock:
        found = _indexes.get(key)
    if found is not None:
        return found
    body = live.body(phone_id, generation)
    found = _build(phone_id, body.generation, json.loads(body.json))
    with _lock:
        _indexes[(phone_id, body.generation)] = found
        while len(_indexes) > LOCAL_INDEXES:
            _indexes.popitem(last=False)
    return found


_decisions: OrderedDict[tuple, routing.Decision] = OrderedDict()


def decide(phone_id: int, index: Index, step: StepIndex, said, history, current, options=()):
    """routing.route, remembered per process: the built-in router is deterministic and the
    index is addressed by generation, so a repeated question ("yes", "what are your hours?")
    gets the same answer without running the model again. LLM answers are not kept.
    `options`: the two job ids the last turn's question offered (this turn settles it)."""
    options = tuple(options)
    key = (phone_id, index.generation, step.key, said, tuple(history), current, options)
    with _lock:
        found = _decisions.get(key)
        if found is not None:
            _decisions.move_to_end(key)
            return found
    found = routing.route(step.candidates, said, history, current, options)
    from .routing.engine import ROUTER  # loaded by the route above

    # "builtin" by any spelling or path; not the LLM router's fallback (it may answer next time).
    if found.backend == "builtin" and ROUTER.uses("builtin"):
        with _lock:
            _decisions[key] = found
            while len(_decisions) > LOCAL_DECISIONS:
                _decisions.popitem(last=False)
    return found


def _build(phone_id: int, generation: int, config: dict) -> Index:
    sona = [step for step in config["steps"] if step["kind"] == "sona"]
    built = steps_candidates(
        phone_id=phone_id, steps={step["key"]: step.get("jobs", []) for step in sona}
    )
    steps = {
        step["key"]: StepIndex(
            key=step["key"],
            name=step["name"],
            candidates=built[step["key"]],
            actions={job["id"]: job["actions"] for job in step.get("jobs", [])},
        )
        for step in sona
    }
    return Index(generation, config["version"]["number"], steps)


def warm_up() -> None:
    """Load the router's model and run it once, so the first route after a start is as fast
    as the rest (config/wsgi.py calls it; with gunicorn's preload_app the workers share it)."""
    from .routing import engine, minilm

    minilm.warm()
    # The built-in router even when ROUTER_BACKEND is "llm" (its fallback): no call out at start.
    engine.route_builtin(
        (
            routing.Candidate(id=1, name="Opening hours", trigger="Caller asks when you are open"),
            routing.Candidate(
                id=2, name="Take a message", trigger="Caller wants to leave a message"
            ),
        ),
        "When are you open today?",
    )
