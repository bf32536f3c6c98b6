"""Real HTTP receivers on localhost: a ThreadingHTTPServer in a thread that records what it got."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers each POST with the next of `answers` (a status, or ("hang", seconds) then 200)."""

    def __init__(self, answers=(200,)):
        self.answers = list(answers)
        self.bodies: list[dict] = []  # every body read, in order
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.bodies.append(body)
                    receiver.message_ids.append(self.headers.get("X-Inspection-Message-Id"))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if isinstance(answer, tuple):  # hang, then answer too late
                    time.sleep(answer[1])
                    answer = 200
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
