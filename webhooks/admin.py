"""Support staff see endpoints (with their history), the outbox and the delivery log across
workspaces; disable, enable and resend go through the services (staff_support). Owners add and
delete endpoints (page or add_webhook): staff never see or set a secret."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from core.errors import error_messages
from core.paginators import EstimatedCountPaginator
from workspaces.admin import ReadOnlyAdmin, StaffSupportAdmin

from . import services
from .models import WebhookDelivery, WebhookEndpoint, WebhookOutbox


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(StaffSupportAdmin, SimpleHistoryAdmin):
    list_display = ("url", "workspace", "enabled", "failing_since", "created_by", "created_at")
    list_filter = ("enabled", "workspace")
    search_fields = ("url", "description", "=workspace__slug", "workspace__name")
    list_select_related = ("workspace", "created_by")
    fields = readonly_fields = (
        "workspace",
        "url",
        "description",
        "events",
        "enabled",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    actions = ["disable_selected", "enable_selected"]
    history_list_display = ["enabled", "events", "description"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # owners delete (webhook_delete); staff disable, which keeps the log

    def _each(self, request, queryset, service, done: str):
        for endpoint in queryset.select_related("workspace"):
            try:
                service(endpoint=endpoint, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{endpoint}: {' '.join(error_messages(exc))}", messages.ERROR
                )
        self.message_user(request, done)

    @admin.action(description="Disable the selected endpoints")
    def disable_selected(self, request, queryset):
        self._each(request, queryset, services.webhook_disable, "Disabled.")

    @admin.action(description="Enable the selected endpoints")
    def enable_selected(self, request, queryset):
        self._each(request, queryset, services.webhook_enable, "Enabled.")


@admin.register(WebhookOutbox)
class WebhookOutboxAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("message_id", "event", "endpoint", "tries", "next_try_at", "delivered_at")
    list_filter = ("event", ("next_try_at", admin.EmptyFieldListFilter))
    search_fields = ("=message_id", "endpoint__url", "=endpoint__workspace__slug")
    list_select_related = ("endpoint",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, StaffSupportAdmin, admin.ModelAdmin):
    list_display = ("at", "endpoint", "event", "message_id", "attempt", "succeeded", "status_code")
    list_filter = ("succeeded", "event")
    search_fields = ("=message_id", "endpoint__url", "=endpoint__workspace__slug")
    list_select_related = ("endpoint",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["resend_selected"]

    @admin.action(description="Resend the selected messages")
    def resend_selected(self, request, queryset):
        for delivery in queryset.select_related("outbox", "endpoint__workspace"):
            try:
                services.webhook_resend(delivery=delivery, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{delivery}: {' '.join(error_messages(exc))}", messages.ERROR
                )
        self.message_user(request, "Queued to be sent again.")
