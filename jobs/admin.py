from django.contrib import admin

from workspaces.admin import StaffSupportAdmin
from workspaces.documents.admin import READONLY_FIELDS, DocumentAdmin, DocumentAdminForm

from . import services
from .forms import TEXT_FIELD_CLASSES
from .models import TEXT_FIELDS, Job, JobTemplate
from .views import PAGES


class JobAdminForm(DocumentAdminForm):
    noun = "job"

    class Meta:
        model = Job
        fields = ["workspace", *TEXT_FIELDS]
        field_classes = TEXT_FIELD_CLASSES

    def validate_texts(self, data):
        workspace = self.instance.workspace if self.instance.pk else data["workspace"]
        texts = {field: data.get(field, "") for field in TEXT_FIELDS}
        job = self.instance if self.instance.pk else None
        services.job_validate(workspace=workspace, data=texts, job=job)
        return None


@admin.register(Job)
class JobAdmin(DocumentAdmin):
    pages = PAGES
    form = JobAdminForm
    list_display = ("name", "workspace", "updated_at", "updated_by", "deleted_at")
    # Exact slug match for the workspace: no join-and-scan of every workspace name.
    search_fields = ("name", "description", "trigger", "=workspace__slug")
    list_select_related = ("workspace", "updated_by")
    readonly_fields = ("template_name", *READONLY_FIELDS)
    fields = ("workspace", *TEXT_FIELDS, "revision", *readonly_fields)

    def save_document(self, user, job, form, texts, revision):
        if job is None:
            workspace = form.cleaned_data["workspace"]
            return services.job_create(workspace=workspace, user=user, data=texts)
        return services.job_update(job=job, user=user, data=texts, expected_revision=revision)


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
