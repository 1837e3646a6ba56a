from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from callflows.models import PhoneNumber
from callflows.selectors import phone_number_find
from workspaces.management.commands._args import get_user


def get_phone_number(raw: str) -> PhoneNumber:
    try:
        phones = phone_number_find(raw=raw)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc
    if not phones:
        raise CommandError(f"No phone number {raw.strip()}.")
    if len(phones) > 1:
        names = ", ".join(f"{p.number} ({p.workspace.name})" for p in phones)
        raise CommandError(
            f"“{raw.strip()}” names several numbers: {names}. Give it with its +country code."
        )
    return phones[0]


def get_member(email: str, phone: PhoneNumber):
    """The user acting on the number: a member of its workspace, or support staff."""
    user = get_user(email)
    if not user.is_staff and not user.memberships.filter(workspace=phone.workspace).exists():
        raise CommandError(f"{user.email} is not a member of {phone.workspace.name!r}.")
    return user
