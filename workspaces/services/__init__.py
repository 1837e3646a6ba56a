"""The writes of tenancy, by topic:

- `workspace`: create a workspace (with its owner), its call retention and time zone;
- `members`: add, change the role of and remove members (the last owner stays);
- `tokens`: API tokens: create, revoke, and the workspace of a bearer token;
- `invitations`: send, resend, revoke, accept, decline, and sign up from an invitation;
- `accounts`: a user's own profile and last workspace, and support staff's sign-in unlock;
- `signup`: public sign-up (account and workspace), email verification and its resend.

Callers import the services from here (`from workspaces import services`); every public name of
the modules is re-exported below. A test that replaces a name a service reads patches it in the
module that looks it up (`services.invitations.MAX_PENDING_INVITATIONS`).
"""

from .accounts import (
    signin_source_unlock,
    user_remember_workspace,
    user_update_profile,
)
from .invitations import (
    INVITATION_DAYS,
    MAX_PENDING_INVITATIONS,
    invitation_accept,
    invitation_check_invitee,
    invitation_decline,
    invitation_problem,
    invitation_resend,
    invitation_revoke,
    invitation_send,
    invitation_sign_up,
)
from .members import (
    membership_add,
    membership_change_role,
    membership_check_owner_remains,
    membership_remove,
)
from .signup import (
    VERIFY_DAYS,
    LinkRefused,
    RateLimited,
    email_verify,
    email_verify_by_reset,
    signup,
    signup_open,
    signup_resend,
)
from .tokens import (
    TOKEN_PREFIX,
    NewToken,
    api_token_create,
    api_token_revoke,
    api_token_workspace,
    hash_token,
)
from .workspace import (
    RETENTION_MAX_DAYS,
    retention_validate,
    time_zone_validate,
    workspace_create,
    workspace_set_retention,
    workspace_set_time_zone,
)

__all__ = [
    "VERIFY_DAYS",
    "LinkRefused",
    "RateLimited",
    "email_verify",
    "email_verify_by_reset",
    "signup",
    "signup_open",
    "signup_resend",
    "INVITATION_DAYS",
    "MAX_PENDING_INVITATIONS",
    "NewToken",
    "RETENTION_MAX_DAYS",
    "TOKEN_PREFIX",
    "api_token_create",
    "api_token_revoke",
    "api_token_workspace",
    "hash_token",
    "invitation_accept",
    "invitation_check_invitee",
    "invitation_decline",
    "invitation_problem",
    "invitation_resend",
    "invitation_revoke",
    "invitation_send",
    "invitation_sign_up",
    "membership_add",
    "membership_change_role",
    "membership_check_owner_remains",
    "membership_remove",
    "retention_validate",
    "signin_source_unlock",
    "time_zone_validate",
    "user_remember_workspace",
    "user_update_profile",
    "workspace_create",
    "workspace_set_retention",
    "workspace_set_time_zone",
]
