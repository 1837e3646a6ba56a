from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q

from core.errors import error_messages
from core.paginators import SearchEstimatePaginator
from workspaces.admin import ReadOnlyAdmin, StaffSupportAdmin

from . import services
from .models import Call, Scenario


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
    # No date drill-down (a DISTINCT over every call); newest first on the call_started index
    # (call_recent with a workspace filter); the search is exact: an external id or a caller's
    # number, each on its index (calls.models.Call.Meta.indexes).
    ordering = ("-started_at", "-id")
    search_fields = ("=external_id", "=caller")
    # The names are copied onto the call: only the workspace is joined, in the same query.
    list_select_related = ("workspace",)
    readonly_fields = [f.name for f in Call._meta.fields]
    # Filtered (outcome, source, workspace) too: the planner's estimate above 1,000 rows, never
    # an exact COUNT over a million calls.
    paginator = SearchEstimatePaginator
    show_full_result_count = False
    actions = None

    def get_search_results(self, request, queryset, search_term):
        """Exact and case-sensitive (search_fields' "=" is iexact, which no index serves)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(external_id=term) | Q(caller=term)), False


@admin.register(Scenario)
class ScenarioAdmin(StaffSupportAdmin, admin.ModelAdmin):
    """Owners write scenarios on a step's Tests tab (or import them); support staff look, and
    delete one through the service (role check, audit event, the router's examples refreshed)."""

    list_display = ("name", "step_key", "call_flow", "turn_count", "created_by", "updated_at")
    search_fields = ("name", "=step_key", "=call_flow__phone_number__number")
    list_select_related = ("call_flow__phone_number", "created_by")
    readonly_fields = [f.name for f in Scenario._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="turns")
    def turn_count(self, scenario):
        return len(scenario.turns or [])

    def delete_model(self, request, obj):
        services.scenario_delete(scenario=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for scenario in queryset.select_related("call_flow__phone_number__workspace"):
            try:
                services.scenario_delete(scenario=scenario, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{scenario}: {' '.join(error_messages(exc))}", messages.ERROR
                )
