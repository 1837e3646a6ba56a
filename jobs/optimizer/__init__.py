"""Optimize job instructions so Sona follows them better.

    from jobs.optimizer import optimize, OptimizeRefused

    result = optimize(job.instructions, trigger=job.trigger)
    result.text, result.changes, result.already_optimized, result.backend, result.notice

The backend is the Django setting OPTIMIZER_BACKEND: "builtin" (default, offline) or "openai"
(any OpenAI-compatible chat-completions endpoint, falling back to builtin with a notice).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import MAX_CHARS, OptimizeRefused, Result, setting
from .builtin import optimize_builtin
from .facts import facts
from .llm import optimize_llm

__all__ = ["MAX_CHARS", "OptimizeRefused", "Result", "facts", "optimize"]


def optimize(text: str, *, trigger: str = "") -> Result:
    """Rewrite `text` as numbered steps, keeping every fact.

    Raises ValueError for empty text and OptimizeRefused when the result would be over
    MAX_CHARS characters; in both cases the caller keeps the original text.
    """
    if not text or not text.strip():
        raise ValueError("There are no instructions to optimize.")
    backend = (setting("OPTIMIZER_BACKEND", "") or "builtin").strip().lower()
    if backend == "builtin":
        return optimize_builtin(text, trigger)
    if backend == "openai":
        return optimize_llm(text, trigger)
    raise ImproperlyConfigured(f'OPTIMIZER_BACKEND must be "builtin" or "openai", not {backend!r}.')
