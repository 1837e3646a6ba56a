"""Extremes refused at the door: a slow or odd web page, PDF and JSON bombs, too many files,
bytes or pages in one request, and IPv6 forms of private addresses."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from knowledge import services
from knowledge.fetch import extract_url
from knowledge.models import KnowledgePage
from knowledge.sources import Source, extract_file
from tests.knowledge.pdfs import _one_page_pdf, bomb_pdf, many_pages_pdf, text_pdf
from workspaces.models import AuditEvent

DEADLINE = 1.5
MARGIN = 1.0
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 (http.server's name)
        try:
            self._answer()
        except OSError:  # the client hung up: what a deadline does
            pass

    def _answer(self):
        if self.path == "/drip":  # 2 bytes every 0.3 s for 6 s: no single read waits long
            self._headers("text/plain")
            for _ in range(20):
                self.wfile.write(b"ab")
                self.wfile.flush()
                time.sleep(0.3)
        elif self.path == "/drip-headers":
            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            for _ in range(20):
                self.wfile.write(b"X-Slow: 1\r\n")
                self.wfile.flush()
                time.sleep(0.3)
            self.wfile.write(b"Content-Type: text/plain\r\n\r\nhello")
        elif self.path.startswith("/hop/"):  # each hop 0.6 s: three exceed 1.5 s together
            left = int(self.path.rsplit("/", 1)[1])
            time.sleep(0.6)
            if left:
                self.send_response(302)
                self.send_header("Location", f"/hop/{left - 1}")
                self.end_headers()
            else:
                self._headers("text/plain")
                self.wfile.write(b"Arrived.")
        elif self.path.startswith("/charset/"):
            charset, body = CHARSETS[self.path.rsplit("/", 1)[1]]
            self._headers(f"text/plain; charset={charset}")
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()

    def _headers(self, kind):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()

    def log_message(self, *args):
        pass


CHARSETS = {
    "unknown": ("x-does-not-exist", b"Open 9 to 5."),
    "bytes-codec": ("zlib", b"Open 9 to 5."),
    "empty": ("", b"Open 9 to 5."),
    "utf7": ("utf-7", b"Open +2AA- 9 to 5."),  # a lone surrogate once decoded
}


class Server(ThreadingHTTPServer):
    block_on_close = False  # a handler still dripping does not hold the test


@pytest.fixture
def site(settings):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = True
    settings.KNOWLEDGE_FETCH_DEADLINE = DEADLINE
    settings.KNOWLEDGE_FETCH_TIMEOUT = 1.0  # longer than any single wait of the drips
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


# One deadline for the whole fetch -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/drip", "/drip-headers", "/hop/3"])
def test_a_slow_page_is_cut_off_at_the_deadline(site, path):
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"the page took longer than 1\.5 s"):
        extract_url(f"{site}{path}")
    assert time.monotonic() - started < DEADLINE + MARGIN


def test_a_slow_dns_lookup_counts_too(site, monkeypatch):
    resolve = socket.getaddrinfo

    def slow(*args, **kwargs):
        time.sleep(DEADLINE + 1)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"the page took longer than 1\.5 s"):
        extract_url(f"{site}/charset/empty")
    assert time.monotonic() - started < DEADLINE + MARGIN


def test_redirects_within_the_deadline_arrive(site, settings):
    settings.KNOWLEDGE_FETCH_DEADLINE = 5.0  # two hops of 0.6 s, with room on a busy machine
    assert extract_url(f"{site}/hop/1").text == "Arrived."


@pytest.mark.django_db
def test_the_import_page_shows_the_deadline(owner_client, site, django_capture_on_commit_callbacks):
    # The fetch runs as background work (eagerly here, after the commit); its page says why.
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("knowledge:import_url"), {"url": f"{site}/drip"})
    assert response.status_code == 302
    body = owner_client.get(response.url).content.decode()
    assert "the page took longer than 1.5 s to fetch; nothing was imported." in body
    assert body.lower().count("nothing was imported") == 1  # said once
    assert not KnowledgePage.objects.exists()


# Character sets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"), [("unknown", "'x-does-not-exist'"), ("bytes-codec", "'zlib'")]
)
def test_an_unknown_charset_is_a_clear_error(site, name, shown):
    with pytest.raises(ValidationError, match=f"declares an unknown character set \\({shown}\\)"):
        extract_url(f"{site}/charset/{name}")


def test_an_empty_charset_is_read_as_utf8(site):
    assert extract_url(f"{site}/charset/empty").text == "Open 9 to 5."


def test_a_charset_that_yields_a_lone_surrogate_imports_a_replacement(site):
    assert extract_url(f"{site}/charset/utf7").text == "Open \ufffd 9 to 5."


@pytest.mark.django_db
def test_the_import_page_shows_a_bad_charset(
    owner_client, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("knowledge:import_url"), {"url": f"{site}/charset/unknown"}
        )
    assert response.status_code == 302
    body = owner_client.get(response.url).content.decode()
    assert "declares an unknown character set" in body
    assert not KnowledgePage.objects.exists()


# SSRF through IPv6 forms (the rule itself: tests/workspaces/test_netsafety.py) -----------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::127.0.0.1]/",
        "http://[fd00::1]/",
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(url, settings):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        extract_url(url)


# Files ----------------------------------------------------------------------------------------


def test_a_pdf_bomb_is_refused():
    with pytest.raises(ValidationError) as exc:
        extract_file("bomb.pdf", bomb_pdf(80))  # 80 KB inflating to 80 MB
    assert exc.value.messages == [
        "bomb.pdf: part of the PDF expands to more than 20 MB when read; such a file "
        "cannot be imported."
    ]


def test_a_pdf_over_the_page_limit_is_refused(settings):
    settings.KNOWLEDGE_PDF_MAX_PAGES = 3
    with pytest.raises(ValidationError, match="three.pdf: the file has no text"):
        extract_file("three.pdf", many_pages_pdf(3))  # within the limit: read (blank pages)
    with pytest.raises(ValidationError) as exc:
        extract_file("four.pdf", many_pages_pdf(4))
    assert exc.value.messages == [
        "four.pdf: the PDF has 4 pages; at most 3 pages per PDF. Split it and upload the parts."
    ]


def test_a_pdf_that_reads_too_long_is_stopped_at_the_deadline(settings):
    settings.KNOWLEDGE_PDF_DEADLINE = 0.5
    # 100,000 drawing operators: seconds of pure-Python parsing before any text comes out.
    heavy = _one_page_pdf(b"BT /F1 12 Tf 72 720 Td " + b"(x) Tj 1 0 Td " * 100_000 + b"ET")
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"heavy.pdf: reading the PDF's text took longer"):
        extract_file("heavy.pdf", heavy)
    assert time.monotonic() - started < 0.5 + MARGIN


def test_a_pdf_within_the_limits_is_read(settings):
    settings.KNOWLEDGE_PDF_MAX_PAGES = 1
    assert "Fee 149" in extract_file("menu.pdf", text_pdf("Fee 149")).text


def test_json_nested_100000_deep_is_refused():
    with pytest.raises(ValidationError) as exc:
        extract_file("deep.json", DEEP_JSON)
    assert exc.value.messages == ["deep.json: the file is not valid JSON: it is nested too deeply."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.pdf", bomb_pdf, "bomb.pdf: part of the PDF expands to more than 20 MB"),
        ("deep.json", lambda: DEEP_JSON, "deep.json: the file is not valid JSON: it is nested"),
    ],
)
def test_the_upload_page_shows_bombs_as_errors(owner_client, name, data, message):
    files = [SimpleUploadedFile("hours.md", b"Mon-Fri 9-5"), SimpleUploadedFile(name, data())]
    response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    assert response.status_code == 200
    assert f"Nothing was imported. {message}" in response.content.decode()
    assert not KnowledgePage.objects.exists()


# Per-request limits ---------------------------------------------------------------------------


def _files(count, size=10):
    return [SimpleUploadedFile(f"f{n}.txt", b"x" * size) for n in range(count)]


@pytest.mark.django_db
def test_at_most_20_files_per_upload(owner_client):
    response = owner_client.post(reverse("knowledge:upload"), {"files": _files(21)})
    assert response.status_code == 200
    assert "You chose 21 files; at most 20 files per upload." in response.content.decode()
    assert not KnowledgePage.objects.exists()
    response = owner_client.post(reverse("knowledge:upload"), {"files": _files(20)})
    assert response.status_code == 302 and KnowledgePage.objects.count() == 20


@pytest.mark.django_db
def test_at_most_25_mb_per_upload(owner_client, settings):
    assert settings.KNOWLEDGE_UPLOAD_MAX_BYTES == 25 * 1024 * 1024
    settings.KNOWLEDGE_UPLOAD_MAX_BYTES = 1024 * 1024  # the same rule, with small files
    response = owner_client.post(reverse("knowledge:upload"), {"files": _files(3, 400_000)})
    assert response.status_code == 200
    assert "The files come to 1.1 MB; at most 1 MB per upload." in response.content.decode()
    assert not KnowledgePage.objects.exists()


@pytest.mark.django_db
def test_more_files_than_django_reads_get_a_page_naming_the_limit(owner_client, settings):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 30
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    response = owner_client.post(reverse("knowledge:upload"), {"files": _files(6)})
    assert response.status_code == 400
    assert "Too many files were sent: at most 5 files at a time." in response.content.decode()
    assert not KnowledgePage.objects.exists()


@pytest.mark.django_db
def test_at_most_200_pages_per_import(workspace, owner):
    sources = [Source("file", f"{n}.txt", f"Page {n}", "Fact.") for n in range(201)]
    with pytest.raises(ValidationError) as exc:
        services.knowledge_import(workspace=workspace, user=owner, sources=sources)
    assert exc.value.messages == [
        "This import would create 201 pages; at most 200 pages per import. Import fewer or "
        "shorter files at a time."
    ]
    assert not KnowledgePage.objects.exists()
    assert not AuditEvent.objects.filter(action="knowledge.imported").exists()
    assert len(services.knowledge_import(workspace=workspace, user=owner, sources=sources[:200]))


LONG = "\n\n".join(["fact " * 1999] * 5)  # three pages


@pytest.mark.django_db
def test_the_upload_page_counts_pages_not_files(owner_client, settings):
    settings.KNOWLEDGE_IMPORT_MAX_PAGES = 2
    files = [SimpleUploadedFile("long.txt", LONG.encode())]
    response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    assert "would create 3 pages; at most 2 pages per import" in response.content.decode()
    assert not KnowledgePage.objects.exists()


@pytest.mark.django_db
def test_the_command_is_bounded_unless_it_asks_for_more(workspace, owner, settings, tmp_path):
    settings.KNOWLEDGE_IMPORT_MAX_PAGES = 2
    path = tmp_path / "long.txt"
    path.write_text(LONG, encoding="utf-8")
    argv = [str(path), "--workspace", workspace.slug, "--user", owner.email]
    with pytest.raises(CommandError, match="would create 3 pages; at most 2 pages per import"):
        call_command("import_knowledge", *argv)
    assert not KnowledgePage.objects.exists()
    call_command("import_knowledge", *argv, "--max-pages", "3")
    assert KnowledgePage.objects.count() == 3


def test_a_pdf_needing_more_memory_than_allowed_is_refused(monkeypatch):
    from knowledge import sources

    monkeypatch.setattr(sources, "PDF_MEMORY_MAX_BYTES", 15 * 1024 * 1024)  # pypdf needs more
    with pytest.raises(ValidationError) as exc:
        extract_file("menu.pdf", text_pdf("Fee 149"))
    assert exc.value.messages == ["menu.pdf: the PDF needs too much memory to read."]


def test_a_pdf_reader_that_cannot_start_is_logged_not_a_server_error(monkeypatch, caplog):
    from knowledge import sources

    monkeypatch.setattr(sources, "_PDFTEXT", sources._PDFTEXT.with_name("missing.py"))
    with pytest.raises(ValidationError) as exc:
        extract_file("menu.pdf", text_pdf("Fee 149"))
    assert exc.value.messages == ["menu.pdf: the PDF could not be read here; try again later."]
    assert "knowledge/pdftext.py failed" in caplog.text


@pytest.mark.django_db
def test_a_form_over_djangos_text_limit_gets_a_page_naming_it(owner_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = owner_client.post(
        reverse("knowledge:create"), {"title": "Big", "body": "x" * (1024 * 1024 + 1)}
    )
    assert response.status_code == 400
    assert "The form sent is too large: at most 1.0 MB of text" in response.content.decode()
    assert not KnowledgePage.objects.exists()
