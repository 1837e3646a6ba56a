from django.core.management.base import CommandError

from callflows.models import PhoneNumber
from callflows.selectors import phone_number_find


def get_phone_number(raw: str) -> PhoneNumber:
    """The phone number (read in each workspace country in use); a bad format is a
    ValidationError, which ServiceCommand reports."""
    phones = phone_number_find(raw=raw)
    if not phones:
        raise CommandError(f"No phone number {raw.strip()}.")
    if len(phones) > 1:
        names = ", ".join(f"{p.number} ({p.workspace.name})" for p in phones)
        raise CommandError(
            f"“{raw.strip()}” names several numbers: {names}. Give it with its +country code."
        )
    return phones[0]
