"""Public sign-up: a new business creates its account and workspace, then verifies its email.

- `signup` creates the person (unverified), their workspace (workspace_create, with them as its
  owner) and emails a signed link. The account cannot log in until the link is opened.
- `email_verify` reads the link (signed, VERIFY_DAYS old at most, bound to the account's email
  and password) and marks the address verified; the page then logs the person in.
- `signup_resend` emails a new link to an account still waiting; the answer is the same for any
  address.
- A sign-up with an address that has an account changes nothing and shows the same "check your
  email" page: the address gets an email saying someone tried to sign up, with links to log in and
  to reset the password. So the page never tells whether an account exists, and whoever typed
  someone else's address gains nothing (a reset, which proves the mailbox, verifies too).
- Limits, counted in the cache per hour (callflows/throttle.py does the same for bad API
  tokens): SIGNUP_SOURCE_LIMIT sign-ups and SIGNUP_SOURCE_LIMIT resends per source (an IPv4
  address or IPv6 /64, core/sources.py), refused with a message; SIGNUP_EMAIL_LIMIT emails per
  address, past which nothing more is sent and the page says the same (the limit must not tell
  whether the address has an account either).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_ratelimit.core import get_usage

from core.phones import normalize_region

from .. import audit
from ..models import Membership, User
from .invitations import _full_name, _invitation_email
from .workspace import workspace_create

VERIFY_DAYS = 3
VERIFY_SALT = "workspaces.signup.verify"
SIGNUP_GROUP = "signup"
RESEND_GROUP = "signup-resend"
EMAIL_GROUP = "signup-email"


class RateLimited(ValidationError):
    """Too many attempts from one source: the page answers 429 with this message."""


class LinkRefused(ValidationError):
    """A verification link that cannot be used; `email` (when known) prefills a new request."""

    def __init__(self, message, *, code, email=""):
        super().__init__(message, code=code)
        self.email = email


def signup_open() -> bool:
    return settings.PLAYBOOK_PUBLIC_SIGNUP


# Limits -----------------------------------------------------------------------------------


def _usage(group: str, value: str, limit: int, *, increment: bool) -> dict | None:
    return get_usage(
        None,
        group=group,
        key=lambda _group, _request: value,
        rate=f"{limit}/h",
        increment=increment,
    )


def _check_source(group: str, source: str, what: str) -> None:
    """Refuse a source that used up its hour (counting nothing)."""
    usage = _usage(group, source, settings.SIGNUP_SOURCE_LIMIT, increment=False)
    if usage is not None and usage["count"] >= settings.SIGNUP_SOURCE_LIMIT:
        minutes = max(1, -(-usage["time_left"] // 60))
        raise RateLimited(
            f"Too many {what} from your network in the last hour. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            code="rate_limited",
        )


def _count_source(group: str, source: str) -> None:
    _usage(group, source, settings.SIGNUP_SOURCE_LIMIT, increment=True)


def _may_email(email: str) -> bool:
    """Count one email to this address; False past SIGNUP_EMAIL_LIMIT this hour."""
    usage = _usage(EMAIL_GROUP, email, settings.SIGNUP_EMAIL_LIMIT, increment=True)
    return usage is None or not usage["should_limit"]


# The link ---------------------------------------------------------------------------------


def _fingerprint(user: User) -> str:
    """Changes when the email, the password or the verification does: a link is used once and
    stops working if the account changes."""
    value = f"{user.pk}|{user.email}|{user.password}|{user.email_verified_at}"
    return salted_hmac(VERIFY_SALT, value).hexdigest()[:32]


def _verify_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "f": _fingerprint(user)}, salt=VERIFY_SALT)


def _link_user(token: str) -> User:
    """The account of a link, or LinkRefused saying why not."""
    invalid = LinkRefused(
        "This verification link is not valid. Copy the whole link from the email, or ask for a "
        "new one below.",
        code="invalid",
    )
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=timedelta(days=VERIFY_DAYS))
    except signing.SignatureExpired:
        data = signing.loads(token, salt=VERIFY_SALT)  # authentic, only old: name the account
        user = User.objects.filter(pk=data.get("u")).first() if isinstance(data, dict) else None
        raise LinkRefused(
            f"This verification link has expired: links work for {VERIFY_DAYS} days. "
            "Ask for a new one below.",
            code="expired",
            email=user.email if user and user.email_verified_at is None else "",
        ) from None
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise invalid
    user = User.objects.select_for_update().filter(pk=data["u"]).first()
    if user is None:
        raise invalid
    if user.email_verified_at is not None:
        raise LinkRefused("Your email address is already verified: log in with it.", code="used")
    if not constant_time_compare(str(data.get("f", "")), _fingerprint(user)):
        raise LinkRefused(
            "This verification link no longer works: the account changed since it was sent. "
            "Ask for a new one below.",
            code="replaced",
            email=user.email,
        )
    return user


def _base(base_url: str | None) -> str:
    return (base_url or settings.PLAYBOOK_BASE_URL).rstrip("/")


def _send(template: str, subject: str, email: str, context: dict) -> None:
    send_mail(subject, render_to_string(template, context), None, [email])


def _send_link(user: User, base_url: str | None) -> None:
    workspace = user.last_workspace
    zone = workspace.zone if workspace else "UTC"
    expires = timezone.localtime(timezone.now() + timedelta(days=VERIFY_DAYS), ZoneInfo(zone))
    context = {
        "user": user,
        "workspace": workspace,
        "link": _base(base_url) + reverse("signup_verify", kwargs={"token": _verify_token(user)}),
        "expires": expires,
        "zone": zone,
    }
    _send(
        "workspaces/email/signup_verify.txt", "Verify your email for Playbook", user.email, context
    )


def _send_exists(email: str, base_url: str | None) -> None:
    base = _base(base_url)
    context = {
        "email": email,
        "login": base + reverse("login"),
        "reset": base + reverse("password_reset"),
    }
    _send(
        "workspaces/email/signup_exists.txt",
        "Someone tried to sign up with your email",
        email,
        context,
    )


# Services ---------------------------------------------------------------------------------


@transaction.atomic
def signup(
    *,
    full_name: str,
    business_name: str,
    country: str,
    email: str,
    password: str,
    source: str,
    user,
    base_url: str | None = None,
) -> str:
    """A new business signs up. Returns the address the link went to (or would have: the answer
    is the same when it has an account). `user` is whoever acts now: nobody logged in."""
    if not signup_open():
        raise ValidationError("Sign-up is closed: ask an owner of your workspace to invite you.")
    if user is not None and user.is_authenticated:
        raise ValidationError(f"You are logged in as {user.email}: log out to sign up.")
    _check_source(SIGNUP_GROUP, source, "sign-ups")
    errors = {}
    clean = {}
    for field, check in (
        ("full_name", lambda: _full_name(full_name)),
        ("email", lambda: _invitation_email(email)),
        ("country", lambda: normalize_region(country)),
    ):
        try:
            clean[field] = check()
        except ValidationError as exc:
            errors[field] = exc.messages
    business = " ".join((business_name or "").split())
    if not business:
        errors["business_name"] = ["Enter your business's name."]
    elif len(business) > 100:
        errors["business_name"] = ["A business name can be at most 100 characters."]
    new = User(
        email=clean.get("email", ""), full_name=clean.get("full_name", ""), email_verified_at=None
    )
    try:
        validate_password(password or "", user=new)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    _count_source(SIGNUP_GROUP, source)
    email = clean["email"]
    new.set_password(password)  # hashed either way: the answer takes as long for both
    taken = User.objects.filter(email__iexact=email).exists()
    if not taken:
        try:
            with transaction.atomic():  # a savepoint
                new.save()
        except IntegrityError:  # a concurrent sign-up took the address meanwhile
            taken = True
    if taken:  # the same answer as for a new address; the address is told by email
        if _may_email(email):
            _send_exists(email, base_url)
        return email
    workspace = workspace_create(name=business, owner=new, country=clean["country"])
    new.last_workspace = workspace
    new.save(update_fields=["last_workspace"])
    audit.record(
        user=new,
        workspace=workspace,
        action="user.signed_up",
        obj=Membership.objects.get(user=new, workspace=workspace),
        label=email,
        details={"business": workspace.name, "country": workspace.country},
    )
    if _may_email(email):  # inside the transaction: a refused mail leaves no account behind
        _send_link(new, base_url)
    return email


@transaction.atomic
def signup_resend(*, email: str, source: str, base_url: str | None = None) -> str:
    """A new verification link for an account still waiting; nothing for any other address,
    with the same answer. Returns the address as cleaned."""
    _check_source(RESEND_GROUP, source, "requests for a new link")
    email = _invitation_email(email)
    _count_source(RESEND_GROUP, source)
    waiting = User.objects.filter(
        email__iexact=email, email_verified_at__isnull=True, is_active=True
    ).first()
    if waiting is not None and _may_email(waiting.email):
        _send_link(waiting, base_url)
    return email


def _mark_verified(user: User, how: str) -> User:
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    audit.record(
        user=user,
        workspace=user.last_workspace,
        action="user.email_verified",
        obj=user,
        label=user.email,
        details={"via": how},
    )
    return user


@transaction.atomic
def email_verify(*, token: str) -> User:
    """The emailed link: the address is verified (the link is then used up). Raises LinkRefused
    with the reason for a tampered, expired, used or outdated link."""
    user = _link_user(token)
    if not user.is_active:
        raise LinkRefused("This account is disabled: contact support.", code="disabled")
    return _mark_verified(user, "signup link")


@transaction.atomic
def email_verify_by_reset(*, account: User) -> User:
    """A password reset proves the mailbox as well as a link does: an account still waiting is
    verified by it."""
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.email_verified_at is None:
        _mark_verified(account, "password reset")
    return account
