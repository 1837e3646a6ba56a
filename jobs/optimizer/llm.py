"""The "openai" backend: any OpenAI-compatible chat-completions endpoint.

One request through core/llm.py (the official openai client, shared with the router). The
answer is checked by the same rules
as the built-in rewriter (not empty, at most MAX_CHARS, every fact kept); on any failure the
built-in rewriter runs instead and `notice` says why, in words an owner understands.

Settings: the shared LLM_BASE_URL, LLM_API_KEY, LLM_MODEL, LLM_TIMEOUT; OPTIMIZER_BASE_URL,
OPTIMIZER_API_KEY, OPTIMIZER_MODEL and OPTIMIZER_TIMEOUT still work and override them for the
optimizer (see core/llm.py).
"""

import re

from core.llm import LLMUnavailable, chat, model_name

from .base import MAX_CHARS, NOTHING_TO_CHANGE, Result, normalize
from .builtin import optimize_builtin
from .facts import facts

SYSTEM_PROMPT = f"""\
You rewrite the instructions of one job for Sona, an AI phone agent that answers calls for a \
small business. Rewrite them so Sona follows them better, using these rules:
1. If the trigger or the text says what the caller wants, start with the line \
"Caller intent: <what the caller wants>", then a blank line.
2. Then numbered steps ("1. ", "2. ", ...), exactly one action per step, in order.
3. Use direct imperative wording ("Ask", "Tell", "Offer"). Remove hedges such as "you should \
probably try to", "maybe", "it would be good to", "please try to".
4. Make questions explicit, in the caller's words: Ask: "What is your name?"
5. Keep each sub-case ("If the caller refuses ...", "If the answer is unknown ...") with the \
step it belongs to, as an indented sub-bullet: "   - If the caller ...".
6. Remove repeated sentences and steps.
7. End with a clear closing step, e.g. "End the job: confirm the next step with the caller \
and thank them."
8. Keep every fact exactly as written: names, numbers, phone numbers, email addresses, URLs, \
prices, times, addresses and quoted text.
9. Keep every action marker such as [[Send SMS: ...]] or [[Transfer call: ...]] character for \
character, whole, inside a single step.
10. Stay under {MAX_CHARS:,} characters. Answer with the rewritten instructions only: no \
introduction, no comments, no code fences."""


class _Unavailable(Exception):
    """The endpoint gave no usable answer; the message says why, for the notice."""


class OpenAIOptimizer:
    """OPTIMIZER_BACKEND "openai": the endpoint rewrites, the built-in rules check its answer."""

    def optimize(self, text: str, trigger: str = "") -> Result:
        return optimize_llm(text, trigger)


def optimize_llm(text: str, trigger: str = "") -> Result:
    source = normalize(text)
    try:
        answer = _ask(source, trigger)
    except _Unavailable as error:
        return _fallback(source, trigger, f"The AI rewriter was unavailable ({error})")
    problem = _problem(source, answer)
    if problem:
        return _fallback(source, trigger, f"The AI rewriter's answer was not used ({problem})")
    if answer == source:
        return Result(
            text=source, changes=[NOTHING_TO_CHANGE], already_optimized=True, backend="openai"
        )
    model = _model()
    return Result(
        text=answer,
        changes=[
            f"Rewritten by the AI rewriter ({model}); checked that every number, contact "
            "detail, quote and action of the original is still there."
        ],
        already_optimized=False,
        backend="openai",
    )


def _model() -> str:
    return model_name("OPTIMIZER")


def _fallback(source: str, trigger: str, why: str) -> Result:
    result = optimize_builtin(source, trigger)
    return Result(
        text=result.text,
        changes=result.changes,
        already_optimized=result.already_optimized,
        backend="builtin",
        notice=f"{why}; used the built-in rewriter instead.",
    )


def _problem(source: str, answer: str) -> str:
    """Why the answer cannot be used, or "" when it passes the built-in rewriter's rules."""
    if not answer:
        return "it was empty"
    if len(answer) > MAX_CHARS:
        return f"it was {len(answer):,} characters, over the {MAX_CHARS:,}-character limit"
    missing = facts(source) - facts(answer)
    if missing:
        shown = ", ".join(sorted(value for _kind, value in missing)[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return f"it left out {shown}{more}"
    return ""


def _ask(source: str, trigger: str) -> str:
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"Trigger (caller intent): {trigger.strip() or '(none)'}\n\n"
            f"Instructions:\n{source}",
        },
    ]
    try:
        content = chat(messages, temperature=0, prefix="OPTIMIZER")
    except LLMUnavailable as error:
        raise _Unavailable(str(error)) from None
    return normalize(_strip_code_fence(content))


def _strip_code_fence(content: str) -> str:
    # Models often wrap text in ``` despite being told not to; the fence is not instructions.
    match = re.fullmatch(r"\s*```[\w-]*\n(.*?)\n?```\s*", content, re.DOTALL)
    return match[1] if match else content
