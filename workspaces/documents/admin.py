"""The support admin every versioned document shares: writes through the kind's services
(save, delete, restore, restore a version), history with a readable "Changes" column, and a
"Live / Recently deleted" filter. A kind's admin names its `DocumentPages` (the same
declaration as its pages) and its own fields."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core.admin_filters import DeletedFilter
from core.diff import annotate_history
from core.errors import error_messages
from core.paginators import EstimatedCountPaginator
from workspaces.admin import StaffSupportAdmin
from workspaces.admin_forms import ServiceValidatedAdminForm
from workspaces.permissions import staff_support

from . import DocumentConflict, selectors
from .views import DocumentPages

# Shown, never typed: who and when. A kind adds its own in front.
READONLY_FIELDS = ("created_by", "created_at", "updated_by", "updated_at", "deleted_at")


class DocumentAdminForm(ServiceValidatedAdminForm):
    """Carries the revision the page was opened at: a stale copy is refused with a friendly
    message here, and again under a row lock by the service."""

    noun = "document"
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["revision"].initial = self.instance.revision

    def validate_with_service(self, data):
        if self.instance.pk and data.get("revision") not in (None, self.instance.revision):
            raise ValidationError(
                f"This {self.noun} was changed by someone else since you opened it. "
                "Reload the page to see the current version; your text was not saved."
            )
        return self.validate_texts(data)

    def validate_texts(self, data) -> dict | None:
        """The kind's service validation of the typed texts (none by default)."""
        return None


class DocumentAdmin(StaffSupportAdmin, SimpleHistoryAdmin):
    pages: DocumentPages  # the kind's declaration: its services and the words for its texts

    list_filter = (DeletedFilter, "workspace")
    ordering = ("-updated_at", "-pk")  # indexed: no sort of the whole table
    list_select_related = ("workspace", "updated_by")
    autocomplete_fields = ("workspace",)
    readonly_fields = READONLY_FIELDS
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = ["restore_selected"]
    history_list_display = ["restore"]
    object_history_template = "admin/history_with_diff.html"
    object_history_list_template = "admin/history_list_with_diff.html"

    def get_readonly_fields(self, request, obj=None):
        # A document never moves between workspaces.
        return (*self.readonly_fields, "workspace") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the same services as the pages: validation, history user and reason.
        texts = {field: form.cleaned_data[field] for field in self.pages.labels}
        revision = form.cleaned_data.get("revision")
        saved = self.save_document(request.user, obj if change else None, form, texts, revision)
        obj.pk, obj.revision = saved.pk, saved.revision

    def save_document(self, user, document, form, texts, revision):
        """Create (document None) or update through the kind's services."""
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.pages.delete(obj, request.user)

    def delete_queryset(self, request, queryset):
        for document in queryset:
            self.delete_model(request, document)

    @admin.action(description="Restore selected deleted %(verbose_name_plural)s")
    def restore_selected(self, request, queryset):
        restored = 0
        for document in queryset.filter(deleted_at__isnull=False):
            try:
                self.pages.restore(document, request.user)
                restored += 1
            except ValidationError as exc:
                message = f"{document}: {' '.join(error_messages(exc))}"
                self.message_user(request, message, messages.ERROR)
        self.message_user(request, f"Restored {restored} {self.pages.noun}(s).")

    # History: a readable "Changes" column and "Restore this version" through the service.

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each row's changes as a short word diff (core/diff.py)."""
        annotate_history(historical_records, self.pages.labels)

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def restore(self, record):
        url = reverse(
            f"admin:{self._url_name('restore_version')}", args=[record.id, record.history_id]
        )
        return format_html('<a href="{}">Restore this version</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/history/<int:version_id>/restore/",
                self.admin_site.admin_view(self.restore_version_view),
                name=self._url_name("restore_version"),
            ),
            *super().get_urls(),
        ]

    def restore_version_view(self, request, object_id, version_id):
        document = get_object_or_404(self.model, pk=object_id)
        if not self.has_change_permission(request, document):
            raise PermissionDenied
        version = selectors.version_get(document, version_id)
        history_url = reverse(f"admin:{self._url_name('history')}", args=[document.pk])
        if request.method == "POST":
            revision = int(request.POST.get("revision") or 0)
            try:
                with staff_support(request.user):
                    self.pages.restore_version(document, version, request.user, revision)
            except DocumentConflict:
                message = f"The {self.pages.noun} changed since you opened this page; nothing was restored."
                self.message_user(request, message, messages.ERROR)
            except ValidationError as exc:
                self.message_user(request, " ".join(error_messages(exc)), messages.ERROR)
            else:
                self.message_user(
                    request, f"Version {version.number} restored as the newest version."
                )
            return redirect(history_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore version {version.number} of {document}",
            "opts": self.model._meta,
            "document": document,
            "version": version,
            "fields": [
                (label, getattr(version, field), field in self.pages.long_fields)
                for field, label in self.pages.labels.items()
            ],
            "history_url": history_url,
        }
        return TemplateResponse(request, "admin/documents/restore_version.html", context)
