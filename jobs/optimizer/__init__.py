"""Optimize job instructions so Sona follows them better.

    from jobs.optimizer import optimize, OptimizeRefused

    result = optimize(job.instructions, trigger=job.trigger)
    result.text, result.changes, result.already_optimized, result.backend, result.notice

The backend is the Django setting OPTIMIZER_BACKEND: "builtin" (default, offline), "openai"
(any OpenAI-compatible chat-completions endpoint, falling back to builtin with a notice), or the
dotted path of a class with an optimize(text, trigger) method returning a Result
(core/backends.py reads it).
"""

from core.backends import BackendSetting

from .base import MAX_CHARS, OptimizeRefused, Result
from .facts import facts

__all__ = ["MAX_CHARS", "OPTIMIZER", "OptimizeRefused", "Result", "facts", "optimize"]

OPTIMIZER = BackendSetting(
    "OPTIMIZER_BACKEND",
    method="optimize",
    short_names={
        "builtin": "jobs.optimizer.builtin.BuiltinOptimizer",
        "openai": "jobs.optimizer.llm.OpenAIOptimizer",
    },
)


def optimize(text: str, *, trigger: str = "") -> Result:
    """Rewrite `text` as numbered steps, keeping every fact.

    Raises ValueError for empty text and OptimizeRefused when the result would be over
    MAX_CHARS characters; in both cases the caller keeps the original text.
    """
    if not text or not text.strip():
        raise ValueError("There are no instructions to optimize.")
    return OPTIMIZER.load().optimize(text, trigger)
