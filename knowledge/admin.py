from django.contrib import admin

from core.forms import LineBreakCharField
from workspaces.documents.admin import READONLY_FIELDS, DocumentAdmin, DocumentAdminForm

from . import services
from .models import TEXT_FIELDS, KnowledgePage
from .views import PAGES


class KnowledgePageAdminForm(DocumentAdminForm):
    noun = "page"

    class Meta:
        model = KnowledgePage
        fields = ["workspace", *TEXT_FIELDS]
        field_classes = dict.fromkeys(TEXT_FIELDS, LineBreakCharField)


@admin.register(KnowledgePage)
class KnowledgePageAdmin(DocumentAdmin):
    """Support staff see and change pages through the same services as the pages."""

    pages = PAGES
    form = KnowledgePageAdminForm
    list_display = ("title", "workspace", "source_kind", "updated_at", "updated_by", "deleted_at")
    list_filter = (*DocumentAdmin.list_filter[:1], "source_kind", "workspace")
    search_fields = ("title", "=workspace__slug")
    readonly_fields = ("source_kind", "source_name", *READONLY_FIELDS)
    fields = ("workspace", *TEXT_FIELDS, "revision", *readonly_fields)

    def save_document(self, user, page, form, texts, revision):
        if page is None:
            workspace = form.cleaned_data["workspace"]
            return services.knowledge_page_create(workspace=workspace, user=user, **texts)
        return services.knowledge_page_update(
            page=page, user=user, expected_revision=revision, **texts
        )
