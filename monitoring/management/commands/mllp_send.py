"""Send HL7 v2 messages from a file to an MLLP listener and print each ACK:
``manage.py mllp_send --port 2575 demo/samples/nch-liver.hl7`` (the README's example)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitoring.inbox import hl7v2
from monitoring.inbox.mllp import send


class Command(BaseCommand):
    help = "Send the HL7 v2 messages of a file over MLLP and print the ACKs."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        messages = hl7v2.split(path.read_bytes().decode("utf-8", "replace"))
        if not messages:
            raise CommandError("The file holds no HL7 message.")
        try:
            acks = send(options["host"], options["port"], [m.encode("utf-8") for m in messages])
        except OSError as exc:
            raise CommandError(f"Could not reach the listener: {exc}") from None
        for ack in acks:
            self.stdout.write(ack.decode("utf-8", "replace").replace("\r", "\n").strip() + "\n")
