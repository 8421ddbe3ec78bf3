"""The MLLP listener as a real process (`manage.py mllp_listener` on a free loopback port) and a
real socket client: every frame gets an ACK (AA, AE with the reason, AR), bad input loses
nothing else, and the listener keeps serving.

The listener must see the rows this test writes, so it needs PostgreSQL (make test's); the
test's database is committed (transactional_db) and named to the subprocess.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import hl7
import pytest
from django.core.management import call_command
from django.db import connection

from monitoring.inbox.mllp import CR, END, START, FrameReader, frame
from monitoring.inbox.models import InboxMessage
from monitoring.models import Result
from tests.inbox.helpers import LIVER, infused_case, oru

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener(transactional_db, tmp_path):
    yield from _listener(tmp_path)


@pytest.fixture
def two_workers(transactional_db, tmp_path):
    yield from _listener(tmp_path, "--workers", "2")


def _listener(tmp_path, *extra: str):
    if connection.vendor != "postgresql":
        pytest.skip("The listener subprocess must share the test's database (PostgreSQL under make test).")
    port = _free_port()
    log = tmp_path / "listener.log"
    env = {**os.environ, "GENEGATE_TESTING": "1", "DATABASE_URL": _database_url(), "DATABASE_CONN_MAX_AGE": "0"}
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "manage.py",
            "mllp_listener",
            "--port",
            str(port),
            "--max-bytes",
            "8192",
            "--idle-timeout",
            "20",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None and "ready" in log.read_text(), log.read_text()[-3000:]
    yield port, log, proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


class Client:
    """One MLLP connection: send raw bytes, read the next framed ACK."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.reader = FrameReader()
        self.pending: list = []

    def send_raw(self, data: bytes):
        self.sock.sendall(data)
        return self.ack()

    def send(self, text: str, encoding: str = "utf-8"):
        return self.send_raw(frame(text.encode(encoding)))

    def ack(self):
        while not self.pending:
            data = self.sock.recv(65536)
            assert data, "the listener closed the connection"
            self.pending += self.reader.feed(data)
        item = self.pending.pop(0)
        assert not item.error
        message = hl7.parse(item.payload.decode("utf-8"))
        return message["MSA.F1"], message["MSA.F3"]  # the accessor unescapes \S\ and friends

    def close(self):
        self.sock.close()


def test_the_listener_answers_every_frame_and_loses_nothing(cast, listener):
    port, log, proc = listener
    case = cast.case_a
    infused_case(case)
    client = Client(port)
    try:
        assert client.send(oru("L-1")) == ("AA", "")
        assert Result.objects.filter(draw__case=case).count() == 4

        code, _ = client.send(oru("L-1"))  # the same message again: nothing new
        assert code == "AA" and Result.objects.filter(draw__case=case).count() == 4
        assert InboxMessage.objects.filter(control_id="L-1").count() == 1

        code, reason = client.send_raw(oru("L-2").encode() + END + CR)  # no start block
        assert code == "AR" and "start block" in reason

        code, reason = client.send(oru("L-3", kind="ADT^A01"))
        assert code == "AR" and "ORU^R01" in reason

        code, reason = client.send(oru("L-4", mrn="NOBODY"))
        assert code == "AE" and "No patient with this MRN" in reason

        bad_unit = [("1742-6", "ALT", "45", "mg/dL", "", "", "F")]
        code, reason = client.send(oru("L-5", results=bad_unit))
        assert code == "AE" and "cannot be converted" in reason

        code, reason = client.send(oru("L-6").replace("Zyxwv", "Zyxwé"), encoding="latin-1")
        assert code == "AR" and "UTF-8" in reason

        code, reason = client.send("MSH|" + "x" * 9000)  # over --max-bytes 8192
        assert code == "AR" and "larger than 8192" in reason

        code, reason = client.send_raw(START + b"MSH|^~\\&|half a frame" + START + frame(oru("L-7").encode())[1:])
        assert code == "AR" and "not ended" in reason
        assert client.ack() == ("AA", "")  # the complete frame after it is processed

        corrected = [("1742-6", "ALT", "47", "U/L", "10-60", "", "C")]
        assert client.send(oru("L-8", results=corrected)) == ("AA", "")
        assert Result.objects.get(draw__case=case, analyte="alt").value == 47
    finally:
        client.close()

    statuses = dict(InboxMessage.objects.values_list("control_id", "status").exclude(control_id=""))
    assert statuses["L-1"] == "processed" and statuses["L-4"] == "needs_review" and statuses["L-5"] == "failed"
    assert InboxMessage.objects.filter(status="failed", control_id="").count() >= 5  # each refusal kept, raw
    # A second connection is served too, and nothing about the patient is in the log.
    second = Client(port)
    try:
        assert second.send(oru("L-9", results=LIVER[:1]))[0] in ("AA", "AE")
    finally:
        second.close()
    assert proc.poll() is None
    text = log.read_text()
    assert "MRN-MARKER" not in text and "Markerchild" not in text


def test_a_frame_cut_off_by_the_connection_is_stored_and_the_sender_command_works(cast, listener, tmp_path):
    port, _log, _proc = listener
    sample = tmp_path / "two.hl7"
    sample.write_text(oru("S-1", mrn="NOBODY") + "\n" + oru("S-2", kind="ADT^A01"))
    out = io.StringIO()
    call_command("mllp_send", str(sample), port=port, stdout=out)
    assert "MSA|AE|S-1" in out.getvalue() and "MSA|AR|S-2" in out.getvalue()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(START + oru("CUT").encode()[:120])
    deadline = time.monotonic() + 20
    while not InboxMessage.objects.filter(reason__contains="closed before the frame ended").exists():
        assert time.monotonic() < deadline, "the cut-off frame was not stored"
        time.sleep(0.2)


def test_two_workers_answer_frames_sent_together_as_one_batch_in_order(cast, two_workers):
    """mllp_listener --workers 2: frames that arrive together are one batch (receive_hl7_batch),
    answered in order; each connection is served; stopping the listener stops its workers."""
    port, log, proc = two_workers
    infused_case(cast.case_a)
    acks = []
    for control in ("W-1", "W-2"):
        client = Client(port)
        try:
            together = [oru(control), oru(control), oru(f"{control}-X", mrn="NOBODY")]
            client.sock.sendall(b"".join(frame(text.encode()) for text in together))
            acks.append([client.ack()[0] for _ in together])
        finally:
            client.close()
    assert acks == [["AA", "AA", "AE"], ["AA", "AA", "AE"]]
    assert InboxMessage.objects.filter(control_id__in=["W-1", "W-2"], status="processed").count() == 2
    assert Result.objects.filter(draw__case=cast.case_a).count() == 4
    proc.terminate()
    proc.wait(timeout=20)
    with pytest.raises(OSError):  # no worker left listening on the port
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
