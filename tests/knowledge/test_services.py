import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from knowledge import services
from knowledge.models import BODY_MAX, TITLE_MAX, KnowledgePage
from tests.factories import KnowledgePageFactory
from workspaces.models import AuditEvent
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db


def create(workspace, user, title="Prices", body="Emergency fee: $149."):
    return services.knowledge_page_create(workspace=workspace, user=user, title=title, body=body)


def reasons(page):
    return list(page.history.order_by("history_id").values_list("history_change_reason", flat=True))


def test_create_trims_attributes_and_records_history(workspace, owner):
    page = create(workspace, owner, title="  Prices \r\n", body="Fee:\r\n$149 ")
    assert (page.title, page.body, page.source_kind) == ("Prices", "Fee:\n$149", "written")
    assert page.created_by == owner and page.updated_by == owner
    version = page.history.get()
    assert (version.history_user, version.history_change_reason) == (owner, "created")
    assert AuditEvent.objects.filter(action="knowledge.created", object_id=str(page.pk)).exists()


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "text", "This field cannot be blank."),
        ("x" * (TITLE_MAX + 1), "text", f"at most {TITLE_MAX}"),
        ("Fine", "x" * (BODY_MAX + 1), f"at most {BODY_MAX}"),
        ("Bad\x00", "text", "cannot be stored"),
    ],
)
def test_create_refuses_bad_texts_and_saves_nothing(workspace, owner, title, body, message):
    with pytest.raises(ValidationError, match=message):
        create(workspace, owner, title=title, body=body)
    assert not KnowledgePage.objects.exists()


def test_limits_count_characters_not_bytes(workspace, owner):
    page = create(workspace, owner, title="é" * TITLE_MAX, body="€" * BODY_MAX)
    assert len(page.body) == BODY_MAX


@pytest.mark.parametrize(
    "fields",
    [{"title": ""}, {"title": "x" * (TITLE_MAX + 1)}, {"body": "x" * (BODY_MAX + 1)}],
)
def test_the_database_holds_the_limits(workspace, fields):
    page = KnowledgePageFactory(workspace=workspace)
    for name, value in fields.items():
        setattr(page, name, value)
    # PostgreSQL's varchar(200) refuses a long title before the check constraint does.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        page.save()


def test_member_is_refused(workspace, member):
    with pytest.raises(RoleRequired):
        create(workspace, member)
    assert not KnowledgePage.objects.exists()


def test_update_bumps_revision_and_refuses_a_stale_copy(workspace, owner, admin_user):
    page = create(workspace, owner)
    page = services.knowledge_page_update(
        page=page, user=admin_user, title="Prices", body="Fee: $159.", expected_revision=1
    )
    assert page.revision == 2 and reasons(page) == ["created", "edited"]
    with pytest.raises(services.KnowledgeConflict) as conflict:
        services.knowledge_page_update(
            page=page, user=owner, title="Prices", body="Mine", expected_revision=1
        )
    assert conflict.value.current.body == "Fee: $159."
    page.refresh_from_db()
    assert page.body == "Fee: $159." and page.revision == 2


def test_an_unchanged_save_makes_no_version(workspace, owner):
    page = create(workspace, owner)
    services.knowledge_page_update(page=page, user=owner, title=page.title, body=page.body)
    assert reasons(page) == ["created"]


def test_delete_restore_and_restore_version_only_add_history(workspace, owner):
    page = create(workspace, owner, body="First.")
    page = services.knowledge_page_update(page=page, user=owner, title="Prices", body="Second.")
    first = page.history.order_by("history_id").first()
    result = services.knowledge_page_delete(page=page, user=owner)
    assert result.document.is_deleted
    with pytest.raises(ValidationError, match="deleted"):
        services.knowledge_page_update(page=page, user=owner, title="X", body="Y")
    page = services.knowledge_page_restore(page=page, user=owner)
    assert not page.is_deleted
    page = services.knowledge_page_restore_version(
        page=page, version=first, user=owner, expected_revision=page.revision
    )
    assert page.body == "First."
    assert reasons(page) == ["created", "edited", "deleted", "restored", "restored"]


def test_restore_version_refuses_another_pages_version(workspace, owner):
    page, other = create(workspace, owner), create(workspace, owner, title="Other")
    with pytest.raises(ValidationError, match="another page"):
        services.knowledge_page_restore_version(page=page, version=other.history.get(), user=owner)
