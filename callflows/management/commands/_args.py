from django.core.management.base import CommandError

from callflows.models import PhoneNumber
from callflows.services import normalize_number


def get_phone_number(raw: str) -> PhoneNumber:
    from django.core.exceptions import ValidationError

    try:
        number = normalize_number(raw)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc
    phone = (
        PhoneNumber.objects.select_related("call_flow", "workspace").filter(number=number).first()
    )
    if phone is None:
        raise CommandError(f"No phone number {number}.")
    return phone
