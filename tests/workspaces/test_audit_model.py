import pytest

from workspaces import audit
from workspaces.models import AuditEvent
from workspaces.permissions import staff_support

pytestmark = pytest.mark.django_db


def test_record_names_the_actor_and_object(workspace, owner):
    event = audit.record(
        user=owner, workspace=workspace, action="token.created", obj=workspace, label="Runtime"
    )
    assert (event.actor, event.actor_label, event.object_type, event.object_label) == (
        owner,
        owner.get_full_name(),
        "workspace",
        "Runtime",
    )
    assert not event.via_support


def test_unknown_action_is_a_programming_error(workspace, owner):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record(user=owner, workspace=workspace, action="job.frobbed")


def test_events_are_never_updated_or_deleted(workspace, owner):
    event = audit.record(user=owner, workspace=workspace, action="job.created")
    for attempt in (
        event.save,
        event.delete,
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="job.deleted"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(TypeError):
            attempt()
    assert AuditEvent.objects.get().action == "job.created"


def test_support_staff_are_marked(workspace, staff):
    with staff_support(staff):
        event = audit.record(user=staff, workspace=workspace, action="job.created")
    assert event.via_support and event.actor == staff
