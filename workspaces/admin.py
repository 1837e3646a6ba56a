from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone

from core.errors import error_messages
from core.paginators import EstimatedCountPaginator
from core.sources import describe

from . import services
from .admin_forms import ServiceValidatedAdminForm
from .models import (
    ApiToken,
    AuditEvent,
    ImportFile,
    ImportRun,
    Invitation,
    Membership,
    SourceLockout,
    User,
    Workspace,
)
from .permissions import RoleRequired, staff_support


class ReadOnlyAdmin:
    """Support staff look, but never add, change or delete here (actions may still call a
    service)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffSupportAdmin:
    """Mixin for ModelAdmins whose writes go through services: support staff act as staff.

    Every admin view that can write (add/change form, delete, changelist actions, history
    revert) runs inside staff_support(request.user), the one place a staff user who is no
    member passes require_role. History still names the staff user. A refusal that escapes
    save_model/delete_model rolls the write back and is shown as an error message, not a 500.
    """

    def _as_staff(self, view, request, *args, **kwargs):
        try:
            with staff_support(request.user):
                return view(request, *args, **kwargs)
        except (ValidationError, RoleRequired) as exc:
            if request.method != "POST":  # a redirect to the same GET would loop
                raise
            self.message_user(request, " ".join(error_messages(exc)), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        return self._as_staff(super().changeform_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._as_staff(super().delete_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._as_staff(super().changelist_view, request, *args, **kwargs)

    def history_form_view(self, request, *args, **kwargs):  # simple-history's "Revert"
        return self._as_staff(super().history_form_view, request, *args, **kwargs)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserForm(UserChangeForm):
    class Meta:
        model = User
        fields = [
            "email",
            "full_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        ]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "is_staff",
        "is_active",
        "date_joined",
        "email_verified_at",
    )
    # Empty: signed up, never opened the emailed link (cannot log in yet).
    list_filter = (
        "is_staff",
        "is_superuser",
        "is_active",
        ("email_verified_at", admin.EmptyFieldListFilter),
    )
    readonly_fields = ("email_verified_at",)
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined", "email_verified_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    """Read-only here: membership changes go through MembershipAdmin and its services."""

    model = Membership
    extra = 0
    fields = readonly_fields = ("user", "role", "created_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


RETENTION_FIELDS = ("call_retention_days", "transcript_retention_days")


class WorkspaceAdminForm(ServiceValidatedAdminForm):
    class Meta:
        model = Workspace
        fields = ["name", "slug", "country", "time_zone", *RETENTION_FIELDS]

    def validate_with_service(self, data):
        return {
            **services.retention_validate(
                call_days=data.get("call_retention_days"),
                transcript_days=data.get("transcript_retention_days"),
            ),
            "time_zone": services.time_zone_validate(data.get("time_zone")),
        }


@admin.register(Workspace)
class WorkspaceAdmin(StaffSupportAdmin, admin.ModelAdmin):
    form = WorkspaceAdminForm
    list_display = ("name", "slug", "country", "call_retention_days", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        # Retention and time zone changes go through the owner's services (role check, audit
        # event); the other fields are saved as before.
        if change and set(RETENTION_FIELDS) & set(form.changed_data):
            services.workspace_set_retention(
                workspace=obj,
                call_days=obj.call_retention_days,
                transcript_days=obj.transcript_retention_days,
                user=request.user,
            )
        if change and "time_zone" in form.changed_data:
            services.workspace_set_time_zone(
                workspace=obj, time_zone=obj.time_zone, user=request.user
            )
        super().save_model(request, obj, form, change)


class MembershipAdminForm(ServiceValidatedAdminForm):
    class Meta:
        model = Membership
        fields = ["user", "workspace", "role"]

    def validate_with_service(self, data):
        # A friendly form error; the service re-checks under a lock on save.
        if self.instance.pk and "role" in data:
            original = Membership.objects.get(pk=self.instance.pk)
            services.membership_check_owner_remains(original, data["role"])
        return None


@admin.register(Membership)
class MembershipAdmin(StaffSupportAdmin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "workspace__name", "workspace__slug")
    autocomplete_fields = ("user", "workspace")
    list_select_related = ("user", "workspace")

    def save_model(self, request, obj, form, change):
        # Role changes go through the service so the last owner is never demoted.
        if change and "role" in form.changed_data:
            services.membership_change_role(membership=obj, role=obj.role, user=request.user)
            return
        if not change:
            # Support staff may add an existing user directly (membership_add is staff-only);
            # owners invite through the pages or invite_member, and the invitee accepts.
            created = services.membership_add(
                workspace=obj.workspace, email=obj.user.email, role=obj.role, user=request.user
            )
            obj.pk = created.pk
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        if obj is not None:
            try:
                services.membership_check_owner_remains(obj, None)
            except ValidationError:
                return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            try:
                services.membership_remove(membership=membership, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{membership}: {' '.join(error_messages(exc))}", messages.ERROR
                )


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin, StaffSupportAdmin, admin.ModelAdmin):
    """Read-only: owners send invitations and invitees answer them; staff may revoke."""

    list_display = ("email", "workspace", "role", "invited_by", "sent_at", "expires_at", "status")
    list_filter = ("role",)
    search_fields = ("email", "workspace__name", "=workspace__slug")
    list_select_related = ("workspace", "invited_by")
    fields = readonly_fields = (
        "workspace",
        "email",
        "role",
        "invited_by",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
        "declined_at",
        "revoked_at",
    )
    actions = ["revoke"]

    @admin.display(description="Status")
    def status(self, obj):
        if obj.accepted_at:
            return "Accepted"
        if obj.declined_at:
            return "Declined"
        if obj.revoked_at:
            return "Revoked"
        return "Expired" if obj.is_expired else "Pending"

    @admin.action(description="Revoke the selected pending invitations")
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset.pending():
            services.invitation_revoke(invitation=invitation, user=request.user)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s).")


@admin.register(ApiToken)
class ApiTokenAdmin(StaffSupportAdmin, admin.ModelAdmin):
    """Tokens are created by owners or the create_api_token command; the hash is never shown."""

    list_display = ("name", "prefix", "workspace", "created_by", "created_at", "revoked_at")
    list_filter = ("workspace",)
    search_fields = ("name", "prefix", "workspace__name", "=workspace__slug")
    list_select_related = ("workspace", "created_by")
    fields = readonly_fields = (
        "workspace",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token, user=request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Support staff read the audit log across workspaces. Nobody adds, changes or deletes an
    event here (the services write them; nothing rewrites them)."""

    list_display = ("created_at", "workspace", "actor_label", "via_support", "action", "target")
    list_filter = ("action", "via_support", "workspace")
    search_fields = ("actor__email", "actor_label", "object_label")
    list_select_related = ("workspace",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    paginator = EstimatedCountPaginator
    show_full_result_count = False  # no second count of a large table
    actions = None

    @admin.display(description="object")
    def target(self, event):
        return f"{event.object_type}: {event.object_label}" if event.object_type else ""


class LockoutStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "In force"), ("lifted", "Lifted"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(lifted_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(SourceLockout)
class SourceLockoutAdmin(ReadOnlyAdmin, StaffSupportAdmin, admin.ModelAdmin):
    """Sources locked out of signing in across accounts (workspaces/signin.py). Support staff
    see them and lift them; the per-account lockouts are axes' "Access attempts"."""

    list_display = ("network", "state", "failures", "accounts", "locked_at", "expires_at")
    list_filter = (LockoutStateFilter,)
    search_fields = ("source",)
    list_select_related = ("lifted_by",)
    fields = readonly_fields = (
        "network",
        "failures",
        "accounts",
        "locked_at",
        "expires_at",
        "lifted_at",
        "lifted_by",
    )
    actions = ["lift"]

    @admin.display(description="Source", ordering="source")
    def network(self, obj):
        return describe(obj.source)

    @admin.display(description="State")
    def state(self, obj):
        if obj.lifted_at:
            return f"Lifted by {obj.lifted_by or 'a deleted user'}"
        return "In force" if obj.expires_at > timezone.now() else "Expired"

    @admin.action(description="Lift the selected lockouts")
    def lift(self, request, queryset):
        lifted = 0
        for lockout in queryset.filter(lifted_at__isnull=True):
            services.signin_source_unlock(lockout=lockout, user=request.user)
            lifted += 1
        self.message_user(request, f"Lifted {lifted} lockout(s).")


class ImportFileInline(admin.TabularInline):
    """The names and sizes of the files a run has yet to read (the bytes are not shown; they
    are deleted when the run ends)."""

    model = ImportFile
    fields = readonly_fields = ("position", "name", "size")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Support staff follow background imports (website, uploads, jobs files): status,
    progress, counts and the error the owner saw. The tasks write these rows; nobody edits
    them here."""

    list_display = (
        "pk",
        "created_at",
        "workspace",
        "kind",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "created_by",
    )
    list_filter = ("status", "kind", "workspace")
    search_fields = ("url", "created_by__email", "error", "workspace__slug")
    list_select_related = ("workspace", "created_by")
    readonly_fields = [f.name for f in ImportRun._meta.fields]
    inlines = [ImportFileInline]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = None

    @admin.display(description="progress")
    def progress(self, run):
        return f"{run.done} / {run.total}"
