from django.core.management.base import CommandError

from callflows.models import PhoneNumber
from callflows.services import normalize_number


def get_phone_number(raw: str) -> PhoneNumber:
    """The phone number with its call flow and workspace; a bad format is a ValidationError,
    which ServiceCommand reports."""
    number = normalize_number(raw)
    phone = (
        PhoneNumber.objects.select_related("call_flow", "workspace").filter(number=number).first()
    )
    if phone is None:
        raise CommandError(f"No phone number {number}.")
    return phone
