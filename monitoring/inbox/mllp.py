"""MLLP (HL7's Minimal Lower Layer Protocol) transport: frames, the listener and a sender.

A frame is 0x0B, the message, 0x1C 0x0D. The listener (``manage.py mllp_listener``) answers
every frame with an ACK in a frame: AA accepted, AE application error with the reason, AR
rejected. Bytes outside a frame, a frame that never ends before the next one starts, and a
frame over the size limit are answered AR and stored as failed inbox messages; the
connection goes on. The listener binds to loopback unless told otherwise; a connection idle
longer than the timeout is closed. Only message ids and statuses are logged, never content.

The framing is transport; the message inside is read by python-hl7 (monitoring.inbox.hl7v2).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from dataclasses import dataclass

from django.db import close_old_connections, connection

from monitoring.inbox import hl7v2
from monitoring.inbox.models import InboxSource
from monitoring.inbox.records import ERR_INTERNAL, InboxError
from monitoring.inbox.workflows import Outcome, receive_hl7, receive_hl7_batch, store_failed

logger = logging.getLogger(__name__)

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
DEFAULT_MAX_BYTES = 1024 * 1024  # 1 MiB: a lab result message is a few kB
DEFAULT_IDLE_SECONDS = 60
MAX_CONNECTIONS = 32
STORED_PREFIX_BYTES = 64 * 1024  # of an oversize frame, what is kept for the record
# Frames that arrived together are stored and processed as one batch (receive_hl7_batch: a few
# queries for the whole batch); at most this many at a time.
MAX_BATCH = 100


def frame(payload: bytes) -> bytes:
    return START + payload + END + CR


@dataclass
class Frame:
    """A complete frame (``error`` empty) or a framing error with what was received."""

    payload: bytes
    error: str = ""


class FrameReader:
    """Cuts a byte stream into MLLP frames, with a size limit. Feed bytes, get frames."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.in_frame = False
        self.junk = bytearray()
        self.oversize = False

    def feed(self, data: bytes) -> list[Frame]:
        out: list[Frame] = []
        for byte in data:
            b = bytes((byte,))
            if self.in_frame:
                if b == END:
                    self.in_frame = False
                    if self.oversize:
                        out.append(Frame(bytes(self.buffer), f"Message larger than {self.max_bytes} bytes."))
                    else:
                        out.append(Frame(bytes(self.buffer)))
                    self.buffer.clear()
                    self.oversize = False
                elif b == START:
                    out.append(Frame(bytes(self.buffer), "Frame not ended with 0x1C 0x0D before the next 0x0B."))
                    self.buffer.clear()
                    self.oversize = False
                elif len(self.buffer) >= self.max_bytes:
                    self.oversize = True  # keep the start for the record, drop the rest
                    if len(self.buffer) < self.max_bytes + 1:
                        self.buffer.append(byte)
                else:
                    self.buffer.append(byte)
            elif b == START:
                if self.junk.strip():
                    out.append(Frame(bytes(self.junk), "Bytes outside a frame (no 0x0B start block)."))
                self.junk.clear()
                self.in_frame = True
            elif b == END:
                if self.junk.strip():
                    out.append(Frame(bytes(self.junk), "Message without its 0x0B start block."))
                self.junk.clear()
            elif b == CR and not self.junk.strip():
                continue  # the CR after a frame's 0x1C
            elif len(self.junk) < self.max_bytes:
                self.junk.append(byte)
        return out

    def pending(self) -> Frame | None:
        """What is left when the connection closes (a frame never ended), if anything."""
        if self.in_frame and self.buffer:
            return Frame(bytes(self.buffer), "Connection closed before the frame ended.")
        if self.junk.strip():
            return Frame(bytes(self.junk), "Bytes outside a frame (no 0x0B start block).")
        return None


def answer(item: Frame, *, default_site=None) -> tuple[bytes, Outcome | None]:
    """The ACK (bytes, unframed) for one frame, after storing and processing it."""
    text_for_ack = item.payload[:STORED_PREFIX_BYTES].decode("latin-1")
    if item.error:
        raw = item.payload[:STORED_PREFIX_BYTES].decode("utf-8", "replace")
        reason = item.error + (" Truncated for the record." if len(item.payload) > STORED_PREFIX_BYTES else "")
        message = store_failed(source=InboxSource.HL7, raw=raw, site=default_site, reason=reason)
        logger.info("mllp: framing error, stored as inbox message %s", message.pk)
        return hl7v2.ack(text_for_ack, "AR", item.error).encode("utf-8"), Outcome(message, "AR", item.error)
    try:
        outcome = receive_hl7(item.payload, default_site=default_site)
    except InboxError as exc:
        outcome = Outcome(None, exc.ack, exc.reason, exc.code)
    except Exception as exc:  # never let one message stop the listener; the raw text is stored
        logger.error("mllp: processing error (%s)", type(exc).__name__)
        message = store_failed(
            source=InboxSource.HL7,
            raw=item.payload.decode("utf-8", "replace"),
            site=default_site,
            reason="Internal error while processing; process it again from the inbox.",
        )
        outcome = Outcome(message, "AE", "Internal error while processing; the message is stored.", ERR_INTERNAL)
    return _ack(item, outcome), outcome


def _ack(item: Frame, outcome: Outcome) -> bytes:
    logger.info("mllp: inbox message %s -> %s", outcome.message.pk if outcome.message else "-", outcome.ack)
    reason = "" if outcome.ack == "AA" and not outcome.duplicate else outcome.reason
    text_for_ack = item.payload[:STORED_PREFIX_BYTES].decode("latin-1")
    return hl7v2.ack(text_for_ack, outcome.ack, reason, outcome.code).encode("utf-8")


def answer_many(items: list[Frame], *, default_site=None) -> list[bytes]:
    """The ACKs (unframed, in order) for frames that arrived together: the complete ones as one
    batch (receive_hl7_batch), a framing error each on its own. Should the batch fail as a
    whole, each frame is answered on its own (one frame never ends the connection)."""
    acks: list[bytes | None] = [None] * len(items)
    whole = [i for i, item in enumerate(items) if not item.error]
    for i, item in enumerate(items):
        if item.error:
            acks[i] = _safe_answer(item, default_site)
    for start in range(0, len(whole), MAX_BATCH):
        part = whole[start : start + MAX_BATCH]
        try:
            outcomes = receive_hl7_batch([items[i].payload for i in part], default_site=default_site)
            for i, outcome in zip(part, outcomes, strict=True):
                acks[i] = _ack(items[i], outcome)
        except Exception as exc:  # the type only: an exception's text may quote a message
            logger.error("mllp: batch processing error (%s); answering frame by frame", type(exc).__name__)
            for i in part:
                if acks[i] is None:
                    acks[i] = _safe_answer(items[i], default_site)
    return acks


def _safe_answer(item: Frame, default_site) -> bytes:
    """answer(), and a bare AR should even that fail: one frame never ends the connection."""
    try:
        return answer(item, default_site=default_site)[0]
    except Exception as exc:  # the type only: an exception's text may quote the message
        logger.error("mllp: could not answer a frame (%s)", type(exc).__name__)
        return hl7v2.ack(None, "AR", "The message could not be handled.").encode("utf-8")


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Listener = self.server  # type: ignore[assignment]
        if not server.slots.acquire(blocking=False):
            self.request.close()
            return
        try:
            close_old_connections()
            self.request.settimeout(server.idle_seconds)
            reader = FrameReader(server.max_bytes)
            while True:
                try:
                    data = self.request.recv(65536)
                except (TimeoutError, OSError):
                    break
                if not data:
                    break
                items = reader.feed(data)
                if items:  # what arrived together is answered together, in order
                    acks = answer_many(items, default_site=server.default_site)
                    self.request.sendall(b"".join(frame(ack) for ack in acks))
            leftover = reader.pending()
            if leftover is not None:
                _safe_answer(leftover, server.default_site)  # stored; nobody left to answer
        finally:
            connection.close()
            server.slots.release()


class Listener(socketserver.ThreadingTCPServer):
    """A threaded MLLP server; each connection gets its own database connection."""

    daemon_threads = True
    allow_reuse_address = True
    # Several listener processes (mllp_listener --workers) share the port; the kernel spreads
    # the connections over them.
    allow_reuse_port = True

    def __init__(self, address, *, default_site=None, max_bytes=DEFAULT_MAX_BYTES, idle_seconds=DEFAULT_IDLE_SECONDS):
        self.default_site = default_site
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)


def send(host: str, port: int, payloads: list[bytes], timeout: float = 30, window: int = 1) -> list[bytes]:
    """Send each payload framed over one connection; return each ACK (unframed).

    ``window``: how many messages may be on their way before their ACKs come back (1: each
    waits for its ACK; more lets the listener answer them as one batch)."""
    acks = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = FrameReader()
        for start in range(0, len(payloads), window):
            part = payloads[start : start + window]
            sock.sendall(b"".join(frame(payload) for payload in part))
            got: list[Frame] = []
            while len(got) < len(part):
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("The listener closed the connection without an ACK.")
                got += reader.feed(data)
            acks.extend(f.payload for f in got)
    return acks
