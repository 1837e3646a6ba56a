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

from . import selectors, services
from .forms import TEXT_FIELD_CLASSES, JobForm
from .models import TEXT_FIELDS, Job, JobTemplate

HISTORY_FIELDS = {field: JobForm.Meta.labels[field] for field in TEXT_FIELDS}


class JobAdminForm(ServiceValidatedAdminForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Job
        fields = ["workspace", *TEXT_FIELDS]
        field_classes = TEXT_FIELD_CLASSES

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["revision"].initial = self.instance.revision

    def validate_with_service(self, data):
        # Friendly message for a stale copy; the service re-checks under a row lock.
        if self.instance.pk and data.get("revision") not in (None, self.instance.revision):
            raise ValidationError(
                "This job was changed by someone else since you opened it. "
                "Reload the page to see the current version; your text was not saved."
            )
        workspace = self.instance.workspace if self.instance.pk else data["workspace"]
        texts = {field: data.get(field, "") for field in TEXT_FIELDS}
        job = self.instance if self.instance.pk else None
        services.job_validate(workspace=workspace, data=texts, job=job)
        return None


@admin.register(Job)
class JobAdmin(StaffSupportAdmin, SimpleHistoryAdmin):
    form = JobAdminForm
    list_display = ("name", "workspace", "updated_at", "updated_by", "deleted_at")
    # Plain workspace filter: RelatedOnlyFieldListFilter would scan every job for its choices.
    list_filter = (DeletedFilter, "workspace")
    # Exact slug match for the workspace: no join-and-scan of every workspace name.
    search_fields = ("name", "description", "trigger", "=workspace__slug")
    ordering = ("-updated_at", "-pk")  # indexed: no sort of the whole table
    list_select_related = ("workspace", "updated_by")
    autocomplete_fields = ("workspace",)
    readonly_fields = (
        "template_name",
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
    history_list_display = ["restore"]

    def get_readonly_fields(self, request, obj=None):
        # A job never moves between workspaces.
        return (*self.readonly_fields, "workspace") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the same services as the pages: validation, history user and reason.
        data = {field: form.cleaned_data[field] for field in TEXT_FIELDS}
        if change:
            saved = services.job_update(
                job=obj,
                user=request.user,
                data=data,
                expected_revision=form.cleaned_data.get("revision"),
            )
        else:
            saved = services.job_create(
                workspace=form.cleaned_data["workspace"], user=request.user, data=data
            )
        obj.pk, obj.revision = saved.pk, saved.revision

    def delete_model(self, request, obj):
        services.job_delete(job=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            self.delete_model(request, job)

    # History: a readable "Changes" column and "Restore this version" through the service.

    object_history_template = "admin/history_with_diff.html"
    object_history_list_template = "admin/history_list_with_diff.html"

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each row's changes as a short word diff (core/diff.py)."""
        annotate_history(historical_records, HISTORY_FIELDS)

    def restore(self, record):
        url = reverse("admin:jobs_job_restore_version", args=[record.id, record.history_id])
        return format_html('<a href="{}">Restore this version</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/history/<int:version_id>/restore/",
                self.admin_site.admin_view(self.restore_version_view),
                name="jobs_job_restore_version",
            ),
            *super().get_urls(),
        ]

    def restore_version_view(self, request, object_id, version_id):
        job = get_object_or_404(Job, pk=object_id)
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        version = selectors.job_version_get(job=job, version_id=version_id)
        history_url = reverse("admin:jobs_job_history", args=[job.pk])
        if request.method == "POST":
            try:
                with staff_support(request.user):
                    services.job_restore_version(
                        job=job,
                        version=version,
                        user=request.user,
                        expected_revision=int(request.POST.get("revision") or 0),
                    )
            except services.JobConflict:
                self.message_user(
                    request,
                    "The job changed since you opened this page; nothing was restored.",
                    messages.ERROR,
                )
            except ValidationError as exc:
                self.message_user(request, " ".join(error_messages(exc)), messages.ERROR)
            else:
                self.message_user(
                    request, f"Version {version.number} restored as the newest version."
                )
            return redirect(history_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore version {version.number} of {job.name}",
            "opts": self.model._meta,
            "job": job,
            "version": version,
            "history_url": history_url,
        }
        return TemplateResponse(request, "admin/jobs/job/restore_version.html", context)

    @admin.action(description="Restore selected deleted jobs")
    def restore_selected(self, request, queryset):
        restored = 0
        for job in queryset.filter(deleted_at__isnull=False):
            try:
                services.job_restore_deleted(job=job, user=request.user)
                restored += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{job.name}: {' '.join(error_messages(exc))}", messages.ERROR
                )
        self.message_user(request, f"Restored {restored} job(s).")


@admin.register(JobTemplate)
class JobTemplateAdmin(StaffSupportAdmin, admin.ModelAdmin):
    list_display = ("name", "workspace", "key", "created_at")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "description", "workspace__name")
    autocomplete_fields = ("workspace",)
    list_select_related = ("workspace",)
    readonly_fields = ("key", "created_by", "created_at")

    def has_change_permission(self, request, obj=None):
        # Built-in templates come from jobs/builtin_templates.py and are read-only.
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.template_delete(template=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            services.template_delete(template=template, user=request.user)
