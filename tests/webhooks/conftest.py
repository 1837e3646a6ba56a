"""A real local HTTP server that receives webhook deliveries (http.server in a thread)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from tests.factories import WebhookEndpointFactory


class Receiver(ThreadingHTTPServer):
    block_on_close = False
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[SimpleNamespace] = []
        self.status = 200  # what the next requests get
        self.answer = b'{"ok": true}'
        self.delay = 0.0
        self.location = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hooks"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's name)
        server: Receiver = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.received.append(
            SimpleNamespace(path=self.path, headers=dict(self.headers.items()), body=body)
        )
        try:
            time.sleep(server.delay)
            self.send_response(server.status)
            if server.location:
                self.send_header("Location", server.location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(server.answer)))
            self.end_headers()
            self.wfile.write(server.answer)
        except OSError:  # the client hung up: what a deadline does
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    """A server on 127.0.0.1: deliveries to it need WEBHOOK_ALLOW_PRIVATE (set here)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(workspace, receiver):
    return WebhookEndpointFactory(workspace=workspace, url=receiver.url)
