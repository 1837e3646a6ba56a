from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.phones import DEFAULT_REGION, region_choices
from core.sources import describe
from core.timezones import main_zone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Support staff: may log in to the admin site."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # When the person proved they read this address (the public sign-up's emailed link, an
    # invitation's link or a password reset). Empty: signed up but not verified, cannot log in.
    # Accounts made any other way (commands, the admin, invitations) are verified at creation.
    email_verified_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Where the next login opens (set by the workspace switch and by accepting an invitation);
    # the middleware uses it only while the user is still a member there.
    last_workspace = models.ForeignKey(
        "Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name or self.email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


# Roles that may change jobs, knowledge and call flows.
EDITOR_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    country = models.CharField(
        max_length=2,
        default=DEFAULT_REGION,
        choices=region_choices,
        help_text="ISO 3166-1 code, e.g. US or GB: phone numbers typed without +country code "
        "are read as numbers of this country.",
    )
    call_retention_days = models.PositiveIntegerField(
        default=365, help_text="Calls older than this many days are deleted (prune_calls)."
    )
    transcript_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Transcripts older than this many days are cleared, the summary kept; "
        "empty: kept as long as the call.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="IANA name, e.g. America/New_York: new business-hours steps start in it and "
        "the time-zone picker offers it first. Empty: the country's main zone.",
    )
    # How many of its alerts are open: kept by the outcomes app's services in the transaction
    # that raises or resolves one, recounted by each alert check. The nav's "Alerts (N)" reads
    # it from the row the current-workspace middleware loads anyway: no query on any page.
    open_alerts = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(call_retention_days__gte=1, call_retention_days__lte=3650),
                name="workspace_call_retention_range",
            ),
            models.CheckConstraint(
                condition=models.Q(transcript_retention_days__isnull=True)
                | models.Q(
                    transcript_retention_days__gte=1,
                    transcript_retention_days__lte=models.F("call_retention_days"),
                ),
                name="workspace_transcript_retention_range",
            ),
            # The shape only: the list of supported regions changes with `phonenumbers`
            # releases, so the choices (and the services) check membership, not a migration.
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="workspace_country_shape"
            ),
            # Likewise the shape only ("" or Area/Location..., or UTC): tzdata releases add zones.
            models.CheckConstraint(
                condition=models.Q(time_zone="")
                | models.Q(time_zone__regex=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"),
                name="workspace_time_zone_shape",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def zone(self) -> str:
        """The workspace's time zone: its own, else its country's main zone."""
        return self.time_zone or main_zone(self.country)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Opted in on the Alerts page ("Email me alerts"); only owners and admins are sent them.
    alert_emails = models.BooleanField(
        default=False, help_text="Send this member an email when an alert is raised."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"

    @property
    def can_edit(self) -> bool:
        return self.role in EDITOR_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Neither accepted, declined nor revoked (an expired one is still pending: Resend)."""
        return self.filter(accepted_at=None, declined_at=None, revoked_at=None)


class Invitation(models.Model):
    """An owner's offer to join a workspace; nobody joins without accepting it.

    The emailed link is signed (django.core.signing) and carries a random nonce whose SHA-256
    is stored: Resend replaces the hash, so the old link stops working.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Lower-case.")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nonce_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(accepted_at=None, declined_at=None, revoked_at=None),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="invitation_email_lower"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
            # At most one ending: accepted, declined or revoked.
            models.CheckConstraint(
                condition=(
                    models.Q(accepted_at=None, declined_at=None)
                    | models.Q(accepted_at=None, revoked_at=None)
                    | models.Q(declined_at=None, revoked_at=None)
                ),
                name="invitation_one_ending",
            ),
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.workspace}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ApiToken(models.Model):
    """A per-workspace token for the telephony runtime. Only a SHA-256 hash is stored."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditQuerySet(models.QuerySet):
    """Audit events are never changed or deleted by the application."""

    def update(self, **kwargs):
        raise TypeError("Audit events are never updated.")

    def delete(self):
        raise TypeError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """Who did what, when, in a workspace. Written by the services (workspaces/audit.py) in the
    same transaction as the change; a refused attempt is recorded too."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Kept as text too, so the log still names people and objects after they are deleted.
    actor_label = models.CharField(max_length=254, blank=True)
    via_support = models.BooleanField(
        default=False, help_text="Done by support staff through the admin."
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_time"),
            models.Index(fields=["workspace", "actor", "-created_at"], name="audit_ws_actor"),
            models.Index(fields=["workspace", "action", "-created_at"], name="audit_ws_action"),
            models.Index(fields=["workspace", "object_type", "object_id"], name="audit_ws_object"),
            # The admin's list across workspaces: newest first, and filtered by action.
            models.Index(fields=["-created_at", "-id"], name="audit_time"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_action_time"),
        ]

    def __str__(self):
        return f"{self.actor_label or 'system'} {self.action} {self.object_label}".strip()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are never deleted.")


class SourceLockoutQuerySet(models.QuerySet):
    def active(self, now=None):
        return self.filter(lifted_at__isnull=True, expires_at__gt=now or timezone.now())


class SourceLockout(models.Model):
    """A source (core/sources.py: an IPv4 address or an IPv6 /64) that may not sign in to
    any account for a while: it failed SIGNIN_SOURCE_FAILURE_LIMIT times across accounts
    (password spraying). Written by the sign-in handler (workspaces/signin.py); each further
    failure pushes `expires_at` on. Support staff see these in the admin and lift them
    (services.signin_source_unlock)."""

    source = models.GenericIPAddressField(help_text="An IPv6 address stands for its /64.")
    failures = models.PositiveIntegerField(help_text="Failed sign-ins counted from the source.")
    accounts = models.PositiveIntegerField(help_text="How many accounts they tried.")
    locked_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SourceLockoutQuerySet.as_manager()

    class Meta:
        ordering = ["-locked_at", "-pk"]
        indexes = [models.Index(fields=["source", "expires_at"], name="sourcelockout_source")]

    def __str__(self):
        return f"Sign-in lockout of {describe(self.source)}"


class ImportRun(models.Model):
    """One piece of background work an owner or a command started: a website import, large
    uploads, a large jobs file. The task writes its own progress and result here (status,
    counts, the ids of what it created, or the error in words a person understands)."""

    class Kind(models.TextChoices):
        WEBSITE = "website", "Website"
        FILES = "files", "Uploaded files"
        JOBS = "jobs", "Jobs file"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.DONE, Status.FAILED)

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="import_runs")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    url = models.CharField(max_length=2000, blank=True, help_text="The web page (websites).")
    # Progress: steps done of the steps there are (files read, pages fetched).
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0, help_text="Pages or jobs created.")
    updated_count = models.PositiveIntegerField(default=0, help_text="Jobs updated.")
    result_ids = models.JSONField(
        default=list, blank=True, help_text="Ids of the pages or jobs created."
    )
    summary = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started it (a task lost with its worker runs again)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="importrun_ws_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["website", "files", "jobs"]),
                name="importrun_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]),
                name="importrun_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="importrun_done_le_total"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="website") | ~models.Q(url=""),
                name="importrun_website_has_url",
            ),
            # Finished exactly when done or failed; a failure always says why.
            models.CheckConstraint(
                condition=models.Q(status__in=["done", "failed"], finished_at__isnull=False)
                | models.Q(status__in=["queued", "running"], finished_at__isnull=True),
                name="importrun_finished_iff_ended",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""),
                name="importrun_failure_has_error",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} import #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ImportFile(models.Model):
    """An uploaded file waiting for its import, in the database so that a worker on another
    machine can read it. Deleted when the run finishes."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=255)
    data = models.BinaryField()
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="importfile_position_unique")
        ]

    def __str__(self):
        return self.name
