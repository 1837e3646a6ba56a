"""Sona's spoken reply in a mock call, written by the LLM when ROUTER_BACKEND is "llm".

With the built-in backend the reply is "" and the mock call says the job's own words instead
(calls/sona.py `builtin_reply`): nothing is invented offline. When the LLM fails, the reply is ""
too and the notice says why.
"""

from collections.abc import Sequence

from core.llm import LLMUnavailable, chat

from . import Passage
from .engine import ROUTER

SYSTEM_PROMPT = """\
You are Sona, the AI phone agent of a small business, on a phone call. Follow the job's \
instructions, one step at a time: say only what Sona says next, in one to three short spoken \
sentences, plain text, no lists or markup. Use only facts from the instructions and the \
knowledge passages; if the caller asks something they do not answer, say you will check. \
Never claim an action (a text message, a transfer) happened; say you will do it."""


def writes_replies() -> bool:
    """Whether the LLM writes Sona's replies (ROUTER_BACKEND "llm")."""
    return ROUTER.uses("llm")


def sona_reply(
    job_name: str,
    instructions: str,
    passages: Sequence[Passage | str],
    greeting: str,
    said: str,
    history: Sequence[str] = (),
) -> tuple[str, str]:
    """(reply text, notice). ("", "") with the built-in backend; ("", why) when the LLM failed."""
    if not writes_replies():
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


# A simulated caller: the LLM plays the caller of a mock call ---------------------------------

END = "[END]"
CALLER_PROMPT = """\
You play a person phoning a small business; Sona, its AI phone agent, answers. Stay in your \
persona and pursue your goal. Say only your next line on the phone: one or two short spoken \
sentences, plain text, no stage directions. Answer what Sona asks when your goal allows. When \
your goal is reached, or the call is over, answer exactly {end} (nothing else).

Persona: {persona}
Your goal: {goal}"""


def caller_line(persona: str, goal: str, transcript: Sequence[tuple[str, str]]) -> str:
    """The simulated caller's next line, or "" when the caller is done (the LLM said END).
    `transcript`: (caller said, Sona said) of the turns so far. Raises LLMUnavailable."""
    system = CALLER_PROMPT.format(end=END, persona=persona, goal=goal)
    messages = [{"role": "system", "content": system}]
    # The caller is the assistant here: Sona's lines are what it hears.
    messages.append({"role": "user", "content": "(The call connects.)"})
    for said, reply in transcript:
        messages.append({"role": "assistant", "content": said})
        messages.append({"role": "user", "content": reply or "(Sona says nothing.)"})
    text = " ".join(chat(messages, temperature=0.7).split())
    return "" if END in text else text  # "Thanks, bye! [END]": the call is over
