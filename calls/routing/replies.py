"""Sona's spoken reply in a mock call, written by the LLM when ROUTER_BACKEND is "llm".

With the built-in backend the reply is "" and the mock call shows the job's own words (its
instructions and knowledge passages): nothing is invented offline. When the LLM fails, the reply
is "" too and the notice says why.
"""

from collections.abc import Sequence

from workspaces.llm import LLMUnavailable, chat

from . import Passage
from .engine import setting

SYSTEM_PROMPT = """\
You are Sona, the AI phone agent of a small business, on a phone call. Follow the job's \
instructions, one step at a time: say only what Sona says next, in one to three short spoken \
sentences, plain text, no lists or markup. Use only facts from the instructions and the \
knowledge passages; if the caller asks something they do not answer, say you will check. \
Never claim an action (a text message, a transfer) happened; say you will do it."""


def sona_reply(
    job_name: str,
    instructions: str,
    passages: Sequence[Passage | str],
    greeting: str,
    said: str,
    history: Sequence[str] = (),
) -> tuple[str, str]:
    """(reply text, notice). ("", "") with the built-in backend; ("", why) when the LLM failed."""
    if (setting("ROUTER_BACKEND", "builtin") or "builtin").strip().lower() != "llm":
        return "", ""
    knowledge = "\n".join(
        f"- {p.title}: {p.text}" if isinstance(p, Passage) else f"- {p}" for p in passages
    )
    context = [
        f"Greeting Sona used: {greeting or '(none)'}",
        f"Job: {job_name or '(no job fits: say what the business can help with)'}",
        f"Instructions:\n{instructions or '(none)'}",
        f"Knowledge passages:\n{knowledge or '(none)'}",
    ]
    messages = [{"role": "system", "content": SYSTEM_PROMPT + "\n\n" + "\n\n".join(context)}]
    for turn in history[-10:]:
        messages.append({"role": "user", "content": turn})
    messages.append({"role": "user", "content": said})
    try:
        text = chat(messages, temperature=0).strip()
    except LLMUnavailable as error:
        return "", f"Sona's AI reply was unavailable ({error}); showing the job's own words."
    if not text:
        return "", "Sona's AI reply was empty; showing the job's own words."
    return text[:1000], ""
