"""The call report's document refuses what call_report refuses (issue 21, point 3)."""

import pytest

from . import test_calls_api as report_tests
from .test_api_ninja import accepts

pytestmark = pytest.mark.django_db
line = report_tests.line  # a published number with a job and a token (the report tests')
body, report = report_tests.body, report_tests.report


def test_a_job_version_without_its_job_is_refused_by_the_document_too(client, line):
    data = body(line, job=None, job_version=1)
    assert not accepts("CallReport", data)
    response = report(client, line.token.raw, data)
    assert response.status_code == 400
    assert "Name the job too" in response.json()["fields"]["job_version"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"note": "a\x00b"}, "note"),
        ({"note": {"deep": ["x", "y\x00"]}}, "note"),
        ({"note": {"deep": {"na\x00me": 1}}}, "note"),
        ({"no\x00te": 1}, "body"),
    ],
)
def test_unknown_fields_are_ignored_but_must_be_storable(client, line, extra, field):
    data = {**body(line), **extra}
    assert not accepts("CallReport", data)
    response = report(client, line.token.raw, data)
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["fields"][field]
    data = {**body(line), "note": {"deep": ["x", 1, None, True, 2.5]}}
    assert accepts("CallReport", data)
    assert report(client, line.token.raw, data).status_code == 201
