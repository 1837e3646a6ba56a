"""One client for every OpenAI-compatible chat-completions endpoint (optimizer, router, replies).

    from core.llm import chat, LLMUnavailable, model_name

    text = chat([{"role": "user", "content": "..."}], json=True)   # raises LLMUnavailable(reason)

Settings (config/settings/base.py, from the environment): LLM_BASE_URL ("http://host/v1"),
LLM_API_KEY, LLM_MODEL (default gpt-4o-mini), LLM_TIMEOUT (seconds, default 20). A feature may
pass `prefix`: its own names override the LLM_* ones, e.g. the optimizer's OPTIMIZER_BASE_URL,
OPTIMIZER_API_KEY, OPTIMIZER_MODEL and OPTIMIZER_TIMEOUT (kept working for existing installs).

The official `openai` client does the HTTP; retries are off (max_retries=0) so a dead endpoint
falls back to the built-in backend within LLM_TIMEOUT instead of three times that. The raw body
is parsed here, so every failure becomes one LLMUnavailable with a reason an owner understands.
"""

import json as jsonlib

import openai
from django.conf import settings

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 20.0


class LLMUnavailable(Exception):
    """The endpoint gave no usable answer; str(error) says why ("timed out after 5 s")."""


def _setting(name: str, prefix: str | None):
    # getattr with a default so no settings file has to define every name; `configured` so the
    # module also works outside Django (benches, plain scripts).
    if not settings.configured:
        return None
    for full in ([f"{prefix}_{name}"] if prefix else []) + [f"LLM_{name}"]:
        value = getattr(settings, full, None)
        if value not in (None, ""):
            return value
    return None


def model_name(prefix: str | None = None) -> str:
    return str(_setting("MODEL", prefix) or DEFAULT_MODEL)


def timeout(prefix: str | None = None) -> float:
    return float(_setting("TIMEOUT", prefix) or DEFAULT_TIMEOUT)


def configured(prefix: str | None = None) -> bool:
    return bool(_setting("BASE_URL", prefix))


def chat(
    messages: list[dict],
    *,
    temperature: float = 0,
    json: bool = False,
    prefix: str | None = None,
) -> str:
    """The assistant's text for `messages`. json=True asks for a JSON object (response_format)."""
    base_url = str(_setting("BASE_URL", prefix) or "").rstrip("/")
    first_name = f"{prefix}_BASE_URL" if prefix else "LLM_BASE_URL"
    if not base_url:
        raise LLMUnavailable(f"{first_name} is not set")
    if not base_url.startswith(("http://", "https://")):
        raise LLMUnavailable(f"{first_name} must start with http:// or https://")
    seconds = timeout(prefix)
    extra = {"response_format": {"type": "json_object"}} if json else {}
    client = openai.OpenAI(
        base_url=base_url,
        # The client insists on a key; local endpoints (Ollama, vLLM) accept any.
        api_key=str(_setting("API_KEY", prefix) or "not-set"),
        timeout=seconds,
        max_retries=0,
    )
    try:
        response = client.chat.completions.with_raw_response.create(
            model=model_name(prefix), messages=messages, temperature=temperature, **extra
        )
        raw = response.http_response.content
    except openai.APITimeoutError:
        raise LLMUnavailable(f"timed out after {seconds:g} s") from None
    except openai.APIStatusError as error:
        raise LLMUnavailable(f"the endpoint answered HTTP {error.status_code}") from None
    except openai.APIConnectionError as error:
        reason = error.__cause__ or error
        raise LLMUnavailable(f"could not connect: {reason}") from None
    except openai.OpenAIError as error:
        raise LLMUnavailable(f"the connection failed: {error}") from None
    finally:
        client.close()
    try:
        content = jsonlib.loads(raw.decode("utf-8"))["choices"][0]["message"]["content"]
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError):
        raise LLMUnavailable("its answer was not a valid chat completion") from None
    if not isinstance(content, str):
        raise LLMUnavailable("its answer was not a valid chat completion")
    return content
