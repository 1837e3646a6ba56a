"""A real OpenAI-compatible chat-completions server on 127.0.0.1 (port 0), shared by the tests
of every LLM backend (optimizer, router, replies): no mocked client."""

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeEndpoint(ThreadingHTTPServer):
    """An OpenAI-compatible chat-completions endpoint whose answer each test chooses."""

    daemon_threads = True
    block_on_close = False  # a deliberately slow handler must not hold up the test's end

    def __init__(self, answer: str = ""):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.body = b""
        # Optional: request JSON -> the answer's content, or None for an HTTP 500 (lets a test
        # answer the router, Sona and a simulated caller differently, or fail part way).
        self.respond = None
        self.answers: list[str] = []  # answered one per request, in order, before `answer`
        self.answer(answer)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def handle_error(self, request, client_address):
        pass  # the client hanging up on the slow answer is the point of that test

    def answer(self, content: str) -> None:
        completion = {"choices": [{"message": {"role": "assistant", "content": content}}]}
        self.body = json.dumps(completion).encode()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        server = self.server
        length = int(self.headers["Content-Length"])
        server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        time.sleep(server.delay)
        if server.answers:
            server.answer(server.answers.pop(0))
        status, body = server.status, server.body
        if server.respond is not None:
            content = server.respond(server.requests[-1]["json"])
            status = 500 if content is None else status
            completion = {"choices": [{"message": {"role": "assistant", "content": content}}]}
            body = json.dumps(completion).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # keep the test output clean


@contextmanager
def serving(answer: str = ""):
    server = FakeEndpoint(answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
