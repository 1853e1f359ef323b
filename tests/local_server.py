"""A local HTTP server in a thread, for the stand-ins of outside services (tests/fake_stripe.py,
tests/fake_carrier.py): the subclass answers in on_get(http) / on_post(http)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    server = None

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.on_get(self)

            def do_POST(self):
                fake.on_post(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval: stop() (server.shutdown) waits for the loop to notice.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def on_get(self, http):
        http.send_error(404)

    def on_post(self, http):
        http.send_error(404)
