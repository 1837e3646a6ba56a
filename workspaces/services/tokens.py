"""API tokens of a workspace: created with a secret shown once, revoked, and looked up by the
runtime API (only the secret's hash is stored)."""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from .. import audit
from ..models import ApiToken, User, Workspace
from ..permissions import OWN, require_role

TOKEN_PREFIX = "pb_"


def hash_token(raw: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # the secret: shown once, never stored (only its hash is)


@audit.write_service
def api_token_create(*, workspace: Workspace, name: str, user: User) -> NewToken:
    """Return the token and its secret value, which is shown once and never stored."""
    require_role(user, workspace, OWN, "manage API tokens")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. “Telephony runtime”."})
    if len(name) > 100:
        raise ValidationError({"name": "A token name can be at most 100 characters."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace, name=name, prefix=raw[:10], key_hash=hash_token(raw), created_by=user
    )
    _audit_token(user, token, "token.created")
    return NewToken(token, raw)


def _audit_token(user: User, token: ApiToken, action: str) -> None:
    audit.record(
        user=user,
        workspace=token.workspace,
        action=action,
        obj=token,
        label=token.name,
        details={"prefix": token.prefix},
    )


@audit.write_service
def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    require_role(user, token.workspace, OWN, "manage API tokens")
    # The runtime leases each token's lookup for a second (callflows/live.py): this process
    # forgets on save (callflows/receivers.py), the others within FRESH_SECONDS.
    token = ApiToken.objects.select_for_update().get(pk=token.pk)  # a double submit: one event
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit_token(user, token, "token.revoked")
    return token


def api_token_workspace(raw: str) -> Workspace | None:
    """The workspace of an active token, in one query; None for an unknown or revoked token."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("workspace")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    return token.workspace if token else None
