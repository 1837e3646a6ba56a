"""The Content-Security-Policy header (django-csp): the policy is CONTENT_SECURITY_POLICY in
the settings, the same on every page; this middleware adds the one exception the admin needs,
under /admin/ only.

Django 5.2's admin templates load every script from a file (their data travels in data-*
attributes) and write no style attribute; their one inline <style> (admin/change_list.html)
appears only with `actions_on_top = actions_on_bottom = False`, which no admin here sets.
simple-history's object_history_list.html (the admin's History page of a job) writes
`<p class="paginator" style="border-top: 0">`. Rather than copying that template (and missing
its upgrades), the hash of that exact attribute value is allowed: 'unsafe-hashes' admits only
attribute values with a listed hash, and it is limited to style attributes (style-src-attr).
The app's own pages get no hash at all. tests/test_csp.py recomputes the hash from the
installed package and checks no admin page needs another, so an upgrade fails a test rather
than breaking the admin quietly.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.urls import reverse

ADMIN_STYLE_ATTR_HASHES = ["'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"]
ADMIN_EXTRA = {"style-src-attr": ["'unsafe-hashes'", *ADMIN_STYLE_ATTR_HASHES]}


class PlaybookCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(reverse("admin:index")):
            parts.update = {**(parts.update or {}), **ADMIN_EXTRA}
        return parts
