"""Every URL that takes an object id answers 404 for another workspace's object.

The test walks the URL configuration, so a new URL with an id cannot be forgotten: it fails
until FOREIGN_OBJECTS says how to make such an object in another workspace.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from callflows import services as callflow_services
from tests import factories
from workspaces.models import Role
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db


def _job(ws):
    return {"pk": factories.JobFactory(workspace=ws).pk}


def _deleted_job(ws):
    return {"pk": factories.JobFactory(workspace=ws, deleted_at="2026-01-01T00:00:00Z").pk}


def _job_version(ws):
    job = factories.JobFactory(workspace=ws)
    job.save()  # a history row
    return {"pk": job.pk, "version_id": job.history.first().history_id}


def _membership(ws):
    return {"pk": factories.MembershipFactory(workspace=ws, role=Role.MEMBER).pk}


_foreign_numbers = iter(range(1, 10**6))


def _phone_number(ws):
    number = f"+1333{next(_foreign_numbers):07d}"
    return callflow_services.phone_number_create(
        workspace=ws, number=number, display_name="Theirs", user=factories.owner_of(ws)
    )


def _number(ws):
    return {"pk": _phone_number(ws).pk}


def _number_step(ws):
    phone = _phone_number(ws)
    return {"pk": phone.pk, "step_id": phone.call_flow.steps.get().pk}


def _number_version(ws):
    phone = _phone_number(ws)
    version = callflow_services.callflow_publish(
        call_flow=phone.call_flow, user=factories.owner_of(ws)
    )
    return {"pk": phone.pk, "version_id": version.pk}


# URL name -> function(other_workspace) returning the URL's keyword arguments.
FOREIGN_OBJECTS = {
    "jobs:detail": _job,
    "jobs:edit": _job,
    "jobs:delete": _job,
    "jobs:restore": _deleted_job,
    "jobs:history": _job,
    "jobs:compare": _job,
    "jobs:version_restore": _job_version,
    "jobs:conflict": _job,
    "jobs:optimize": _job,
    "jobs:undo_optimize": _job,
    "jobs:template_from_job": _job,
    "jobs:template_delete": lambda ws: {"pk": factories.JobTemplateFactory(workspace=ws).pk},
    "workspaces:role": _membership,
    "workspaces:remove": _membership,
    "callflows:editor": _number,
    "callflows:rename": _number,
    "callflows:delete": _number,
    "callflows:step_add": _number,
    "callflows:publish": _number,
    "callflows:versions": _number,
    "callflows:rollback": _number_version,
    "callflows:step_edit": _number_step,
    "callflows:step_move": _number_step,
    "callflows:step_remove": _number_step,
    "callflows:step_jobs": _number_step,
    "callflows:step_new_job": _number_step,
    "callflows:attach": _number_step,
    "callflows:detach": _number_step,
    "callflows:job_move": _number_step,
    "workspaces:token_revoke": lambda ws: {
        "pk": api_token_create(workspace=ws, name="t", user=factories.owner_of(ws)).token.pk
    },
}


def _id_urls(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # support staff see every workspace by design
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _id_urls(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and any(
            isinstance(c, IntConverter) for c in entry.pattern.converters.values()
        ):
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.pattern.converters


def id_urls():
    return sorted({(name, route) for name, route, _ in _id_urls(get_resolver().url_patterns)})


def test_every_id_url_is_known():
    missing = [name for name, _ in id_urls() if name not in FOREIGN_OBJECTS]
    assert not missing, f"Add these URLs to FOREIGN_OBJECTS: {missing}"


@pytest.mark.parametrize(("name", "route"), id_urls())
def test_foreign_object_is_404(owner_client, other_workspace, name, route):
    factories.MembershipFactory(workspace=other_workspace)  # the foreign workspace has an owner
    url = reverse(name, kwargs=FOREIGN_OBJECTS[name](other_workspace))
    assert owner_client.get(url).status_code in (404, 405), url
    assert (
        owner_client.post(url, {"name": "x", "role": "owner", "instructions": "x"}).status_code
        == 404
    ), url
