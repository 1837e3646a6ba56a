from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from workspaces.paginators import EstimatedCountPaginator

from . import services
from .models import TEXT_FIELDS, Job, JobTemplate


class JobAdminForm(forms.ModelForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Job
        fields = ["workspace", *TEXT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["revision"].initial = self.instance.revision

    def clean(self):
        data = super().clean()
        # Friendly message for a stale copy; the service re-checks under a row lock.
        if self.instance.pk and data.get("revision") not in (None, self.instance.revision):
            raise ValidationError(
                "This job was changed by someone else since you opened it. "
                "Reload the page to see the current version; your text was not saved."
            )
        return data


class DeletedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("live", "Live"), ("deleted", "Recently deleted"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Job)
class JobAdmin(SimpleHistoryAdmin):
    form = JobAdminForm
    list_display = ("name", "workspace", "updated_at", "updated_by", "deleted_at")
    list_filter = (DeletedFilter, ("workspace", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "description", "trigger", "workspace__name", "workspace__slug")
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
    history_list_display = ["history_change_reason"]

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

    @admin.action(description="Restore selected deleted jobs")
    def restore_selected(self, request, queryset):
        restored = 0
        for job in queryset.filter(deleted_at__isnull=False):
            try:
                services.job_restore_deleted(job=job, user=request.user)
                restored += 1
            except ValidationError as exc:
                self.message_user(request, f"{job.name}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, f"Restored {restored} job(s).")


@admin.register(JobTemplate)
class JobTemplateAdmin(admin.ModelAdmin):
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

    def delete_queryset(self, request, queryset):
        for template in queryset:
            services.template_delete(template=template, user=request.user)
