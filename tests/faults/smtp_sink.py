"""A minimal real SMTP server on loopback for fault tests (stdlib only; smtpd left Python 3.12).

It speaks enough SMTP for Django's SMTP backend (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
keeps what it receives, and can be told to refuse mail (a failing mail server).
"""

from __future__ import annotations

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink
        self._send("220 sink ESMTP")
        data_mode, lines = False, []
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    data_mode = False
                    sink.messages.append("\n".join(lines))
                    lines = []
                    self._send("250 queued")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._send("250 sink")
            elif verb == "MAIL":
                self._send("451 temporary failure" if sink.failing else "250 ok")
            elif verb in ("RCPT", "RSET", "NOOP"):
                self._send("250 ok")
            elif verb == "DATA":
                data_mode = True
                self._send("354 go ahead")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.failing = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
