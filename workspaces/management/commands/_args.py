"""Argument lookups shared by the management commands: one clear error for each miss."""

from django.core.management.base import CommandError

from workspaces.models import User, Workspace


def get_workspace(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise CommandError(f"No workspace with the slug {slug!r}.") from None


def get_user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CommandError(f"No active user with the email {email!r}.")
    return user
