from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from core.admin_filters import DeletedFilter
from core.errors import error_messages
from core.paginators import EstimatedCountPaginator
from workspaces.admin import ReadOnlyAdmin, StaffSupportAdmin
from workspaces.admin_forms import ServiceValidatedAdminForm

from . import services
from .models import CallFlow, CallFlowVersion, PhoneNumber, Step, StepJob


class PhoneNumberAdminForm(ServiceValidatedAdminForm):
    # Lenient: the service reads "+1 (555) 555-0199" or "" and gives the message.
    number = forms.CharField(
        label="Phone number",
        required=False,
        help_text="With its country code (+15551234567), or as a number of the workspace's country.",
    )

    class Meta:
        model = PhoneNumber
        fields = ["workspace", "number", "display_name", "sms_registered"]

    def validate_with_service(self, data):
        if self.instance.pk:  # only the name changes; its field checks are the service's rule
            return None
        return services.phone_number_validate(
            workspace=data["workspace"], number=data["number"], display_name=data["display_name"]
        )


@admin.register(PhoneNumber)
class PhoneNumberAdmin(StaffSupportAdmin, admin.ModelAdmin):
    form = PhoneNumberAdminForm
    list_display = (
        "number",
        "display_name",
        "workspace",
        "sms_registered",
        "created_at",
        "deleted_at",
    )
    search_fields = ("number", "display_name", "workspace__name", "=workspace__slug")
    list_filter = (DeletedFilter, "workspace", "sms_registered")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    actions = ["restore_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return ("number", "workspace", "created_at", "deleted_at", "deleted_by")
        return ("created_at",)

    def save_model(self, request, obj, form, change):
        # Through the services: E.164 check, call flow creation, cache clearing.
        if change:
            if "display_name" in form.changed_data or "sms_registered" not in form.changed_data:
                services.phone_number_rename(
                    phone_number=obj, display_name=obj.display_name, user=request.user
                )
        else:
            created = services.phone_number_create(
                workspace=obj.workspace,
                number=obj.number,
                display_name=obj.display_name,
                user=request.user,
            )
            obj.pk = created.pk
        if "sms_registered" in form.changed_data:
            services.phone_number_set_sms_registered(
                phone_number=obj, registered=obj.sms_registered, user=request.user
            )

    # Deleting moves the number to Recently deleted, as on the pages: nothing of its call flow
    # goes, so the confirmation lists only the numbers (not the rows a hard delete would take).

    def get_deleted_objects(self, objs, request):
        shown = [f"{phone} → Recently deleted (restorable with its call flow)" for phone in objs]
        return shown, {PhoneNumber._meta.verbose_name_plural: len(shown)}, set(), []

    def delete_model(self, request, obj):
        services.phone_number_delete(phone_number=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for phone in queryset.live():
            try:
                self.delete_model(request, phone)
            except ValidationError as exc:
                self.message_user(
                    request, f"{phone.number}: {' '.join(error_messages(exc))}", messages.ERROR
                )

    @admin.action(description="Restore selected deleted phone numbers")
    def restore_selected(self, request, queryset):
        restored = 0
        for phone in queryset.deleted():
            try:
                services.phone_number_restore(phone_number=phone, user=request.user)
                restored += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{phone.number}: {' '.join(error_messages(exc))}", messages.ERROR
                )
        self.message_user(request, f"Restored {restored} phone number(s).")


class StepJobInline(admin.TabularInline):
    model = StepJob
    extra = 0
    fields = readonly_fields = ("position", "job")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    """Read-only: support staff look; owners edit drafts in the call flow editor."""

    list_display = ("name", "kind", "position", "call_flow")
    list_filter = ("kind",)
    search_fields = ("name", "call_flow__phone_number__number")
    list_select_related = ("call_flow__phone_number",)
    readonly_fields = ("call_flow", "key", "position", "kind", "name", "settings")
    inlines = [StepJobInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    fields = readonly_fields = ("position", "kind", "name", "settings")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = CallFlowVersion
    extra = 0
    fields = readonly_fields = (
        "number",
        "published_at",
        "published_by",
        "note",
        "rolled_back_from",
    )
    can_delete = False
    show_change_link = True
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CallFlow)
class CallFlowAdmin(StaffSupportAdmin, admin.ModelAdmin):
    list_display = ("phone_number", "live_version", "draft_updated_at", "draft_updated_by")
    search_fields = (
        "phone_number__number",
        "phone_number__display_name",
        "phone_number__workspace__name",
    )
    list_select_related = ("phone_number", "live_version", "draft_updated_by")
    readonly_fields = ("phone_number", "live_version", "draft_updated_at", "draft_updated_by")
    inlines = [StepInline, VersionInline]
    actions = ["publish_draft"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Publish the draft of the selected call flows")
    def publish_draft(self, request, queryset):
        for flow in queryset.select_related("phone_number"):
            try:
                version = services.callflow_publish(
                    call_flow=flow, user=request.user, note="Published by support"
                )
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{flow.phone_number.number}: {' '.join(error_messages(exc))}",
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, f"{flow.phone_number.number}: published version {version.number}."
                )


@admin.register(CallFlowVersion)
class CallFlowVersionAdmin(ReadOnlyAdmin, StaffSupportAdmin, admin.ModelAdmin):
    """Versions are immutable: viewable, and publishable again, never edited."""

    list_display = (
        "call_flow",
        "number",
        "published_at",
        "published_by",
        "note",
        "rolled_back_from",
    )
    search_fields = ("call_flow__phone_number__number", "note")
    list_select_related = ("call_flow__phone_number", "published_by")
    readonly_fields = (
        "call_flow",
        "number",
        "snapshot",
        "note",
        "published_by",
        "published_at",
        "rolled_back_from",
    )
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["publish_again"]

    @admin.action(description="Publish the selected version again (rollback)")
    def publish_again(self, request, queryset):
        for version in queryset.select_related("call_flow__phone_number"):
            try:
                created = services.callflow_rollback(
                    call_flow=version.call_flow, version=version, user=request.user
                )
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"Version {version.number}: {' '.join(error_messages(exc))}",
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    f"{version.call_flow.phone_number.number}: version {version.number} is live again "
                    f"as version {created.number}.",
                )
