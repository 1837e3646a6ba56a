from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from core.admin_filters import DeletedFilter
from core.diff import annotate_history
from core.errors import error_messages
from core.forms import LineBreakCharField
from core.paginators import EstimatedCountPaginator
from workspaces.admin import StaffSupportAdmin

from . import services
from .models import TEXT_FIELDS, KnowledgePage


class KnowledgePageAdminForm(forms.ModelForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = KnowledgePage
        fields = ["workspace", *TEXT_FIELDS]
        field_classes = dict.fromkeys(TEXT_FIELDS, LineBreakCharField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["revision"].initial = self.instance.revision

    def clean(self):
        data = super().clean()
        # Friendly message for a stale copy; the service re-checks under a row lock.
        if self.instance.pk and data.get("revision") not in (None, self.instance.revision):
            raise ValidationError(
                "This page was changed by someone else since you opened it. "
                "Reload the page to see the current version; your text was not saved."
            )
        return data


@admin.register(KnowledgePage)
class KnowledgePageAdmin(StaffSupportAdmin, SimpleHistoryAdmin):
    """Support staff see and change pages through the same services as the pages."""

    form = KnowledgePageAdminForm
    object_history_template = "admin/history_with_diff.html"
    object_history_list_template = "admin/history_list_with_diff.html"
    list_display = ("title", "workspace", "source_kind", "updated_at", "updated_by", "deleted_at")
    list_filter = (DeletedFilter, "source_kind", "workspace")
    search_fields = ("title", "=workspace__slug")
    ordering = ("-updated_at", "-pk")
    list_select_related = ("workspace", "updated_by")
    autocomplete_fields = ("workspace",)
    readonly_fields = (
        "source_kind",
        "source_name",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
        "deleted_at",
    )
    fields = ("workspace", *TEXT_FIELDS, "revision", *readonly_fields)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = ["restore_selected"]

    def get_readonly_fields(self, request, obj=None):
        # A page never moves between workspaces.
        return (*self.readonly_fields, "workspace") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        texts = {field: form.cleaned_data[field] for field in TEXT_FIELDS}
        if change:
            saved = services.knowledge_page_update(
                page=obj,
                user=request.user,
                expected_revision=form.cleaned_data.get("revision"),
                **texts,
            )
        else:
            saved = services.knowledge_page_create(
                workspace=form.cleaned_data["workspace"], user=request.user, **texts
            )
        obj.pk, obj.revision = saved.pk, saved.revision

    def delete_model(self, request, obj):
        services.knowledge_page_delete(page=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for page in queryset:
            self.delete_model(request, page)

    @admin.action(description="Restore selected deleted pages")
    def restore_selected(self, request, queryset):
        restored = 0
        for page in queryset.filter(deleted_at__isnull=False):
            try:
                services.knowledge_page_restore(page=page, user=request.user)
                restored += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{page.title}: {' '.join(error_messages(exc))}", messages.ERROR
                )
        self.message_user(request, f"Restored {restored} page(s).")

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each row's changes as a short word diff (core/diff.py)."""
        annotate_history(historical_records, {field: field.title() for field in TEXT_FIELDS})
