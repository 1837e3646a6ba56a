"""A router backend for tests (settings.ROUTER_BACKEND = "tests.calls.fake_router.FakeRouter"): it
answers each of the three decisions on cue, whatever the built-in router's scores are, so every
surface (API, mock calls, the command, test cases) is tested for JOB, CLARIFY and NONE.

- "pizza" in what the caller says: NONE (the closest job is the first, well under the line);
- "appointment": CLARIFY between the first two jobs, unless `options` are given;
- `options` given (the caller answers the question): JOB, the second option when they say
  "change", "move" or "second", else the first;
- otherwise JOB: the first job whose name's first word the caller says, else the first job.
Every call is kept in CALLS (said, options), so tests see what a caller passed."""

from calls.routing import CLARIFY, JOB, LIKELY, NONE, SURE, Decision, Match

CALLS: list[tuple[str, tuple[int, ...]]] = []
QUESTION = "Are you calling to book a new appointment, or to change one you have?"


def _ranking(candidates, first=None, low=False) -> tuple[Match, ...]:
    ordered = sorted(candidates, key=lambda c: c.id != first) if first else list(candidates)
    top = 0.3 if low else 0.9
    return tuple(
        Match(c.id, c.name, round(top - 0.1 * i, 2), (f"“{c.name.split()[0].lower()}”",))
        for i, c in enumerate(ordered)
    )


def route(candidates, said, history=(), current=None, options=()) -> Decision:
    options = tuple(options)
    CALLS.append((said, options))
    words = said.lower()
    candidates = tuple(candidates)
    if not candidates:
        return Decision(NONE, None, None, (), backend="fake")
    if options:
        pick = options[1] if any(w in words for w in ("change", "move", "second")) else options[0]
        ranking = _ranking(candidates, first=pick)
        other = next(m for m in ranking if m.id in options and m.id != pick)
        return Decision(JOB, ranking[0], other, ranking, confidence=LIKELY, backend="fake")
    if "pizza" in words:
        ranking = _ranking(candidates, low=True)
        return Decision(NONE, None, ranking[0], ranking, backend="fake")
    if "appointment" in words and len(candidates) > 1:
        ranking = _ranking(candidates)
        return Decision(
            CLARIFY, None, ranking[1], ranking, options=ranking[:2], question=QUESTION,
            backend="fake",
        )  # fmt: skip
    named = next((c for c in candidates if c.name.split()[0].lower() in words), candidates[0])
    ranking = _ranking(candidates, first=named.id)
    runner = ranking[1] if len(ranking) > 1 else None
    return Decision(JOB, ranking[0], runner, ranking, confidence=SURE, backend="fake")


class FakeRouter:
    def route(self, candidates, said, history=(), current=None, options=()) -> Decision:
        return route(candidates, said, history, current, options)
