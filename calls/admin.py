from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from workspaces.admin import ReadOnlyAdmin, StaffSupportAdmin
from workspaces.errors import error_messages
from workspaces.paginators import EstimatedCountPaginator

from . import services
from .models import Call, StepTestCase


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Calls are records: mock calls end as calls, the runtime reports live ones. Support staff
    read them; nobody adds, changes or deletes one here."""

    list_display = (
        "started_at",
        "number",
        "caller",
        "source",
        "job_name",
        "outcome",
        "workspace",
    )
    list_filter = ("outcome", "source", "workspace")
    search_fields = ("=external_id", "caller")
    date_hierarchy = "started_at"
    # The names are copied onto the call: only the workspace is joined, in the same query.
    list_select_related = ("workspace",)
    readonly_fields = [f.name for f in Call._meta.fields]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = None


@admin.register(StepTestCase)
class StepTestCaseAdmin(StaffSupportAdmin, admin.ModelAdmin):
    """Owners save test cases from mock calls; support staff look, and delete one through the
    service (role check, audit event, the router's examples refreshed)."""

    list_display = (
        "said",
        "expected",
        "expected_action",
        "step_key",
        "call_flow",
        "created_by",
        "created_at",
    )
    list_filter = ("expects_job", "expected_action")
    search_fields = ("said", "expected_job_name", "=call_flow__phone_number__number")
    list_select_related = ("call_flow__phone_number", "created_by")
    readonly_fields = [f.name for f in StepTestCase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="expects")
    def expected(self, case):
        return case.expected_job_name if case.expects_job else "(no job)"

    def delete_model(self, request, obj):
        services.test_case_delete(test_case=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for case in queryset.select_related("call_flow__phone_number__workspace"):
            try:
                services.test_case_delete(test_case=case, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{case}: {' '.join(error_messages(exc))}", messages.ERROR
                )
