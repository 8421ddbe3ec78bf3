"""Test-only e-mail backends (named in EMAIL_BACKEND, also by the worker subprocess)."""

from __future__ import annotations

import os
import smtplib
import time

from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Fails with an SMTP error while ``FlakyBackend.failures`` > 0, then delivers (locmem)."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class SlowFileBackend(FileBackend):
    """Writes each message to EMAIL_FILE_PATH; first sleeps GENEGATE_TEST_MAIL_SLEEP seconds
    (and touches GENEGATE_TEST_MAIL_SLEEPING) so a test can kill the worker mid-send."""

    def send_messages(self, messages):
        delay = float(os.environ.get("GENEGATE_TEST_MAIL_SLEEP", "0") or 0)
        marker = os.environ.get("GENEGATE_TEST_MAIL_SLEEPING")
        if delay:
            if marker:
                with open(marker, "w") as fh:
                    fh.write(str(os.getpid()))
            time.sleep(delay)
        return super().send_messages(messages)
