from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from callflows.models import PhoneNumber
from callflows.services import normalize_number
from workspaces.management.commands._args import get_user


def get_phone_number(raw: str) -> PhoneNumber:
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


def get_member(email: str, phone: PhoneNumber):
    """The user acting on the number: a member of its workspace, or support staff."""
    user = get_user(email)
    if not user.is_staff and not user.memberships.filter(workspace=phone.workspace).exists():
        raise CommandError(f"{user.email} is not a member of {phone.workspace.name!r}.")
    return user
