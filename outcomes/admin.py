from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from workspaces.admin import ReadOnlyAdmin, StaffSupportAdmin

from . import services
from .models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(StaffSupportAdmin, SimpleHistoryAdmin):
    """Support staff change a workspace's rules through the owners' service (ranges, audit
    event, history naming the staff user); rules are made with the workspace, never here."""

    list_display = ("workspace", "kind", "enabled", "percent", "calls", "per_day", "updated_at")
    list_filter = ("kind", "enabled", "workspace")
    search_fields = ("workspace__name", "=workspace__slug")
    list_select_related = ("workspace",)
    fields = ("workspace", "kind", "enabled", "percent", "calls", "per_day", "updated_at")
    readonly_fields = ("workspace", "kind", "updated_at")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {}
        for rule in AlertRule.objects.filter(workspace=obj.workspace):
            rule = obj if rule.pk == obj.pk else rule
            values[f"{rule.kind}-enabled"] = rule.enabled
            for name in services.RULE_FIELDS[rule.kind]:
                values[f"{rule.kind}-{name}"] = getattr(rule, name)
        services.alert_rules_update(workspace=obj.workspace, user=request.user, values=values)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Alerts are raised by the check and handled on the Alerts page; support staff read them."""

    list_display = ("raised_at", "message", "rule", "workspace", "acknowledged_at", "resolved_at")
    list_filter = ("rule__kind", ("resolved_at", admin.EmptyFieldListFilter), "workspace")
    search_fields = ("message", "=window", "workspace__name", "=workspace__slug")
    list_select_related = ("workspace", "rule")
    ordering = ("-raised_at", "-id")
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = None
