"""Signal wiring of the accounts app, connected once from AccountsConfig.ready()."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.contrib.auth.signals import user_logged_in

from accounts.middleware import mark_login
from accounts.models import Membership, PrescriberProfile, Site


def connect() -> None:
    # Who may see which site's patients is itself audited.
    auditlog.register(Membership)
    auditlog.register(Site)
    auditlog.register(PrescriberProfile)
    user_logged_in.connect(mark_login, dispatch_uid="genegate-mark-login")
