"""A small real SMTP server for tests: it speaks enough SMTP for smtplib and answers as told."""

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SmtpScript:
    """What the server answers; the defaults accept everything."""

    rcpt: str = "250 OK"
    data: str = "250 OK queued"
    received: list[bytes] = field(default_factory=list)
    # While cleared, the server takes the message and then keeps the sender waiting (a hung mail server).
    answer: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0
    # Seconds the server takes to accept the data (a slow mail server that does answer in the end).
    delay: float = 0.0

    def __post_init__(self) -> None:
        self.answer.set()


class _Handler(socketserver.StreamRequestHandler):
    script: SmtpScript

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 test ESMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._say("250 test")
            elif verb == b"MAIL":
                self._say("250 OK")
            elif verb == b"RCPT":
                self._say(self.script.rcpt)
            elif verb == b"DATA":
                self._say("354 go ahead")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                if self.script.delay:
                    self.script.waiting += 1
                    time.sleep(self.script.delay)
                if not self.script.answer.is_set():
                    self.script.waiting += 1
                    self.script.answer.wait()
                    return  # the sender is gone by now
                if self.script.data.startswith("2"):
                    self.script.received.append(body)
                self._say(self.script.data)
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")


@contextmanager
def smtp_server(script: SmtpScript) -> Iterator[int]:
    """Serve SMTP on a free local port while the block runs; yields the port."""
    handler = type("Handler", (_Handler,), {"script": script})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
