"""The Content-Security-Policy is on every response, and no page needs more than it allows:
no inline script, event handler, <style> or style attribute (in the admin, one hashed attribute).
(tests/e2e/test_csp.py loads the same pages in chromium and watches for violations.)"""

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
import simple_history

from core.csp import ADMIN_STYLE_ATTR_HASHES
from tests.pages import POLICY, admin_urls, app_urls, inline_code, parse_csp
from tests.test_roles import world  # noqa: F401  (one of everything, for the admin's pages)

pytestmark = pytest.mark.django_db

ADMIN_POLICY = {
    **POLICY,
    "style-src-attr": {"'unsafe-hashes'", *ADMIN_STYLE_ATTR_HASHES},
}


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_every_app_page_has_the_policy_and_no_inline_code(owner_client, workspace, request):
    urls = app_urls(workspace, request.getfixturevalue("world"))
    assert len(urls) > 30 and "/numbers/" in urls  # the walk found the pages
    for url in urls:
        response = owner_client.get(url)
        assert parse_csp(response["Content-Security-Policy"]) == POLICY, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        found, styles = inline_code(body.decode())
        assert not found and not styles, (url, found, styles)


def test_anonymous_pages_and_errors_have_the_policy(client):
    for url in ("/accounts/login/", "/accounts/password_reset/", "/no-such-page/", "/api/v1/"):
        response = client.get(url)
        assert parse_csp(response["Content-Security-Policy"]) == POLICY, url
        found, styles = inline_code(response.content.decode())
        assert not found and not styles, (url, found, styles)


@pytest.mark.usefixtures("world")
def test_admin_pages_allow_only_their_hashed_styles(staff_client):
    urls = admin_urls()
    assert len(urls) > 30
    attributes = set()
    for url in urls:
        response = staff_client.get(url)
        assert response.status_code in (200, 403), url  # 403: an add form the admin refuses
        assert parse_csp(response["Content-Security-Policy"]) == ADMIN_POLICY, url
        found, styles = inline_code(response.content.decode())
        attributes |= {sha256(f[len("style=") :]) for f in found if f.startswith("style=")}
        assert not [f for f in found if not f.startswith("style=")], (url, found)
        assert not styles, (url, styles)
    # Every style attribute the admin wrote is allowed by its hash, and the hash is still needed.
    assert attributes == set(ADMIN_STYLE_ATTR_HASHES)


def test_admin_hash_matches_the_installed_package():
    history = Path(simple_history.__file__).parent / (
        "templates/simple_history/object_history_list.html"
    )
    attributes = re.findall(r'style="([^"]*)"', history.read_text())
    assert [sha256(value) for value in attributes] == ADMIN_STYLE_ATTR_HASHES


def test_admin_hash_is_not_allowed_outside_the_admin(owner_client):
    header = owner_client.get("/jobs/")["Content-Security-Policy"]
    assert "style-src-attr" not in parse_csp(header) and "unsafe-hashes" not in header


def test_htmx_injects_no_style_and_evaluates_nothing(owner_client):
    text = owner_client.get("/jobs/").text
    head = text.split("</head>", 1)[0]
    [config] = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", head)
    config = json.loads(config)
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    # htmx sets these attributes on swapped-in elements with setAttribute: never "style".
    assert "style" not in config["attributesToSettle"]
    assert "<style" not in head
