"""Careful reads for the workspaces app."""

import hashlib

from django.core import signing
from django.db.models import QuerySet

from .models import Invitation, Workspace

INVITATION_SALT = "workspaces.invitation"


def nonce_hash(nonce: str) -> str:
    # The nonce is 256 random bits: a plain SHA-256 is enough to keep the database from
    # holding a working link.
    return hashlib.sha256(nonce.encode()).hexdigest()


def invitation_from_token(token: str, *, lock: bool = False) -> Invitation | None:
    """The invitation an emailed link names, whatever its state; None for a link that was
    tampered with, replaced by Resend, or never existed."""
    try:
        nonce = signing.loads(token or "", salt=INVITATION_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(nonce, str):
        return None
    invitations = Invitation.objects.select_related("workspace", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    return invitations.filter(nonce_hash=nonce_hash(nonce)).first()


def pending_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.pending()
        .filter(workspace=workspace)
        .select_related("invited_by")
        .order_by("email")
    )
