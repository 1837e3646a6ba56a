"""Ways in: web pages (served from a local http.server), files and the commands."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from knowledge import services
from knowledge.fetch import extract_url
from knowledge.models import KnowledgePage
from tests.conftest import command_help
from tests.knowledge.pdfs import encrypted_pdf, text_pdf
from workspaces.models import AuditEvent

ARTICLE = (
    "<html><head><title>Acme Plumbing – Prices</title></head><body>"
    "<nav>Home | About | Contact</nav><main><article><h1>Our prices</h1>"
    + "".join(
        f"<p>Paragraph {n}: our emergency call-out fee is $149 and includes the first hour "
        "of work by a licensed plumber, day or night, including weekends.</p>"
        for n in range(6)
    )
    + "</article></main><footer>© Acme</footer></body></html>"
)
PAGES = {
    "/prices": (200, "text/html; charset=utf-8", ARTICLE.encode()),
    "/plain": (200, "text/plain", b"Open 9 to 5."),
    "/image": (200, "image/png", b"\x89PNG"),
    "/missing": (404, "text/html", b"no"),
    "/big": (200, "text/html", b"<p>" + b"x" * 3000 + b"</p>"),
    "/empty": (200, "text/html", b"<html><body><script>1</script></body></html>"),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/plain")
            self.end_headers()
            return
        status, kind, body = PAGES.get(self.path, (404, "text/plain", b""))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(settings):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_main_text_and_title_are_extracted(site):
    source = extract_url(f"{site}/prices")
    assert source.title == "Our prices" and source.kind == "url"
    assert "emergency call-out fee is $149" in source.text
    assert "Home | About" not in source.text and "© Acme" not in source.text


def test_plain_text_and_redirects(site):
    source = extract_url(f"{site}/moved")
    assert source.text == "Open 9 to 5." and source.name == f"{site}/plain"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/image", "that is not a web page (it is image/png)"),
        ("/missing", "the site answered 404"),
        ("/empty", "no main text was found"),
    ],
)
def test_bad_pages_get_a_clear_error(site, path, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        extract_url(f"{site}{path}")


def test_the_size_cap_holds(site, settings):
    settings.KNOWLEDGE_FETCH_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="larger than"):
        extract_url(f"{site}/big")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, settings):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        extract_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:x"])
def test_only_http_and_https(url):
    with pytest.raises(ValidationError, match="only http:// and https://"):
        extract_url(url)


def test_the_local_server_is_refused_without_the_setting(site, settings):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback"):
        extract_url(f"{site}/prices")


# The import service and the commands --------------------------------------------------------


@pytest.mark.django_db
def test_import_is_all_or_nothing(workspace, owner):
    from knowledge.sources import Source

    good = Source("file", "a.md", "A", "Facts.")
    too_long_title = Source("file", "b.md", "", "Facts.")  # an empty title is refused
    with pytest.raises(ValidationError, match="b.md"):
        services.knowledge_import(workspace=workspace, user=owner, sources=[good, too_long_title])
    assert not KnowledgePage.objects.exists()
    assert not AuditEvent.objects.filter(action="knowledge.imported").exists()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "hours.md").write_text("# Hours\n\nMon-Fri 9-5", encoding="utf-8")
    (tmp_path / "menu.pdf").write_bytes(text_pdf("Emergency fee 149"))
    (tmp_path / "secret.pdf").write_bytes(encrypted_pdf())
    (tmp_path / "long.txt").write_text("\n\n".join(["fact " * 1999] * 5), encoding="utf-8")
    return tmp_path


@pytest.mark.django_db
def test_import_command_files_and_a_url(workspace, owner, files, site, capsys):
    call_command(
        "import_knowledge",
        str(files / "hours.md"),
        str(files / "menu.pdf"),
        str(files / "long.txt"),
        f"{site}/prices",
        "--workspace",
        workspace.slug,
        "--user",
        owner.email,
    )
    titles = set(KnowledgePage.objects.values_list("title", flat=True))
    assert {"hours", "menu", "long (part 1 of 3)", "long (part 3 of 3)"} <= titles
    assert "Our prices" in titles
    assert "Created 6 page(s)." in capsys.readouterr().out
    page = KnowledgePage.objects.get(title="menu")
    assert page.source_kind == "file" and page.source_name == "menu.pdf"
    assert page.history.get().history_user == owner


@pytest.mark.django_db
def test_import_command_refuses_a_bad_file_and_imports_nothing(workspace, owner, files):
    with pytest.raises(CommandError, match="Nothing imported. secret.pdf: the PDF is encrypted"):
        call_command(
            "import_knowledge",
            str(files / "hours.md"),
            str(files / "secret.pdf"),
            "--workspace",
            workspace.slug,
            "--user",
            owner.email,
        )
    assert not KnowledgePage.objects.exists()


@pytest.mark.django_db
def test_import_command_dry_run_and_missing_file(workspace, owner, files, capsys):
    argv = ["--workspace", workspace.slug, "--user", owner.email]
    call_command("import_knowledge", str(files / "hours.md"), "--dry-run", *argv)
    assert "would have created 1 page(s)" in capsys.readouterr().out
    assert not KnowledgePage.objects.exists()
    with pytest.raises(CommandError, match="Cannot read .*nope.md"):
        call_command("import_knowledge", str(files / "nope.md"), *argv)


@pytest.mark.django_db
def test_import_command_refuses_a_member(workspace, member, files):
    with pytest.raises(CommandError, match="can import knowledge"):
        call_command(
            "import_knowledge",
            str(files / "hours.md"),
            "--workspace",
            workspace.slug,
            "--user",
            member.email,
        )
    assert not KnowledgePage.objects.exists()


@pytest.mark.django_db
def test_export_command(workspace, owner, tmp_path, capsys):
    services.knowledge_page_create(workspace=workspace, user=owner, title="Prices", body="$149")
    out = tmp_path / "k.json"
    call_command("export_knowledge", "--workspace", workspace.slug, "--output", str(out))
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["title"], r["body"], r["source_kind"]) for r in records] == [
        ("Prices", "$149", "written")
    ]
    with pytest.raises(CommandError, match="No workspace"):
        call_command("export_knowledge", "--workspace", "nope")


def test_commands_have_help(capsys):
    assert "FILE_OR_URL" in command_help("import_knowledge", capsys)
    assert "--output" in command_help("export_knowledge", capsys)
