"""Every page a person can open, for tests that look at all of them (tests/test_csp.py and
tests/e2e/test_csp.py): the app's pages from the URL configuration, the admin's main pages from
its registry. Also the Content-Security-Policy as data, and a scan for inline code."""

from html.parser import HTMLParser

from django.contrib import admin
from django.urls import reverse
from django.urls.converters import IntConverter

from tests.conftest import URL_OBJECTS, page_urls

# The policy every response carries (config/settings/base.py), as {directive: {sources}}.
POLICY = {
    "default-src": {"'none'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}


def parse_csp(header: str) -> dict[str, set[str]]:
    """'a x; b y z' -> {'a': {'x'}, 'b': {'y', 'z'}} (django-csp writes directives unordered)."""
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: set(words[1:]) for words in parts}


def _world_kwargs(name: str, converters, w) -> dict | None:
    """Kwargs opening the world's objects (tests/test_roles.py: published versions, attached
    jobs, history), which show more of each page than a fresh object does; None: no such object."""
    app, _, view = name.partition(":")
    objects = {
        "callflows": {"pk": w.phone.pk, "step_id": w.sona.pk, "version_id": w.v1.pk},
        "jobs": {
            "pk": {"restore": w.gone, "template_delete": w.template}.get(view, w.job).pk,
            "version_id": w.job.history.order_by("history_id").first().history_id,
        },
        "workspaces": {
            "pk": (w.token if view == "token_revoke" else w.admin_membership).pk,
        },
    }.get(app, {})
    if not set(converters) <= set(objects):
        return None
    return {key: objects[key] for key in converters}


def app_urls(workspace, world=None) -> list[str]:
    """One URL for every page of the app but the admin (logout excluded: it ends the session).
    Ids name the `world`'s objects when it has one of the kind, else new objects of `workspace`."""
    urls = []
    for name, _route, converters in sorted(page_urls()):
        if name == "logout":
            continue
        kwargs = _world_kwargs(name, converters, world) if world else None
        if kwargs is None and any(isinstance(c, IntConverter) for c in converters.values()):
            kwargs = URL_OBJECTS[name](workspace)
        elif kwargs is None:
            kwargs = dict.fromkeys(converters, "x")  # accounts/reset/<uidb64>/<token>/
        urls.append(reverse(name, kwargs=kwargs))
    return urls


def admin_urls() -> list[str]:
    """The admin's index, each app's index, and for each registered model its changelist, add
    form, and the change form and history of its first object (when it has one)."""
    urls = [reverse("admin:index")]
    apps = sorted({model._meta.app_label for model in admin.site._registry})
    urls += [reverse("admin:app_list", args=[app]) for app in apps]
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls += [
                reverse(f"{prefix}_change", args=[first.pk]),
                reverse(f"{prefix}_history", args=[first.pk]),
            ]
    return urls


class _InlineCode(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []  # what the CSP would block
        self.styles: list[str] = []  # contents of <style> elements
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.found.append("<script> without src")
        for name, value in attrs.items():
            if name == "style":
                self.found.append(f"style={value}")
            elif name.startswith(("on", "hx-on")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        self._in_style = tag == "style"
        if self._in_style:
            self.styles.append("")

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles[-1] += data


def inline_code(html: str) -> tuple[list[str], list[str]]:
    """(inline scripts, event handler and style attributes, javascript: URLs; <style> contents)."""
    parser = _InlineCode()
    parser.feed(html)
    return parser.found, parser.styles
