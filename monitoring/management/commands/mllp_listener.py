"""Listen for HL7 v2 results over MLLP: ``manage.py mllp_listener --host 127.0.0.1 --port 2575``.

Each message is stored in the results inbox and answered with an ACK (AA, AE with the
reason, AR); monitoring/inbox/mllp.py has the rules. Started by ``make run`` (scripts/run.sh).
"""

from __future__ import annotations

import ipaddress
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Site
from monitoring.inbox.mllp import DEFAULT_IDLE_SECONDS, DEFAULT_MAX_BYTES, Listener


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Command(BaseCommand):
    help = "Receive HL7 v2 ORU^R01 results over MLLP into the results inbox (answers each with an ACK)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Bind address (loopback by default).")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument("--site", default="", help="Site short code for messages whose MSH-6 names no site.")
        parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="Largest message accepted.")
        parser.add_argument(
            "--idle-timeout", type=int, default=DEFAULT_IDLE_SECONDS, help="Seconds before an idle connection closes."
        )
        parser.add_argument(
            "--allow-remote", action="store_true", help="Allow a non-loopback bind address (put TLS in front)."
        )

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        if not _is_loopback(host) and not options["allow_remote"]:
            raise CommandError(f"{host} is not a loopback address; pass --allow-remote to bind it.")
        site = None
        if options["site"]:
            site = Site.objects.filter(short_code__iexact=options["site"]).first()
            if site is None:
                raise CommandError(f"No site with short code {options['site']!r}.")
        server = Listener(
            (host, port), default_site=site, max_bytes=options["max_bytes"], idle_seconds=options["idle_timeout"]
        )
        bound = server.server_address

        def stop(_signum, _frame):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"MLLP listener ready on {bound[0]}:{bound[1]}")
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
        self.stdout.write("MLLP listener stopped.")
