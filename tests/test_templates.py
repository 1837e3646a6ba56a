"""Template source rules that Django does not check itself."""

import re
from pathlib import Path

from django.conf import settings

# Django's {# #} comment ends on its own line: a {# without #} on the same line is printed on
# the page as text (seen once on the call flow editor). Longer comments use {% comment %}.
UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def test_no_template_prints_a_comment_that_spans_lines():
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    files = [path for root in roots for path in root.rglob("*.html")]
    assert len(files) > 50  # the walk found the templates
    found = [
        f"{path}:{text[: m.start()].count(chr(10)) + 1}"
        for path in files
        for text in [path.read_text(encoding="utf-8")]
        for m in UNCLOSED_COMMENT.finditer(text)
    ]
    assert found == []
