"""One way to turn a service's refusal into sentences: pages, admin and commands all use it."""

from django.core.exceptions import ValidationError

FALLBACK = "This was refused; nothing was changed."


def error_messages(exc: Exception) -> list[str]:
    """The readable messages of a ValidationError (each once, in order) or of a refusal such
    as RoleRequired; never an empty list."""
    found = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    messages: list[str] = []
    for message in found:
        message = str(message).strip()
        if message and message not in messages:
            messages.append(message)
    return messages or [FALLBACK]
