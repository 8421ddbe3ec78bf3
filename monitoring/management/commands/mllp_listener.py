"""Listen for HL7 v2 results over MLLP: ``manage.py mllp_listener --host 127.0.0.1 --port 2575``.

Each message is stored in the results inbox and answered with an ACK (AA, AE with the
reason, AR); monitoring/inbox/mllp.py has the rules. Started by ``make run`` (scripts/run.sh).

``--workers N`` runs N listener processes on the one port (SO_REUSEPORT: the kernel spreads the
connections over them), each with its own database connections, so N laboratories' feeds are
parsed on N cores at once (Python runs one thread at a time per process).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

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
        parser.add_argument("--workers", type=int, default=1, help="Listener processes sharing the port (default 1).")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        if not _is_loopback(host) and not options["allow_remote"]:
            raise CommandError(f"{host} is not a loopback address; pass --allow-remote to bind it.")
        site = None
        if options["site"]:
            site = Site.objects.filter(short_code__iexact=options["site"]).first()
            if site is None:
                raise CommandError(f"No site with short code {options['site']!r}.")
        workers = options["workers"]
        if workers < 1 or (workers > 1 and port == 0):
            raise CommandError("--workers takes 1 or more, and more than 1 needs a fixed --port.")
        children = []
        connections.close_all()  # each process opens its own
        for _ in range(workers - 1):
            pid = os.fork()
            if pid == 0:  # a worker: serve until stopped, then leave without the parent's clean-up
                code = 0
                try:
                    self._serve(host, port, site, options, announce=False)
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            children.append(pid)
        try:
            self._serve(host, port, site, options, announce=True)
        finally:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass

    def _serve(self, host, port, site, options, *, announce: bool) -> None:
        server = Listener(
            (host, port), default_site=site, max_bytes=options["max_bytes"], idle_seconds=options["idle_timeout"]
        )
        bound = server.server_address

        def stop(_signum, _frame):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if announce:
            self.stdout.write(f"MLLP listener ready on {bound[0]}:{bound[1]}")
            self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
        if announce:
            self.stdout.write("MLLP listener stopped.")
