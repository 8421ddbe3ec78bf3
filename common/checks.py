"""System checks of the deployment settings, run by `manage.py check --deploy`."""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error

HINT = "Set SITE_URL to the https address people open GeneGate at, e.g. https://genegate.example.org."


def _is_this_machine(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def site_url_check(app_configs=None, **kwargs) -> list[Error]:
    """SITE_URL starts every link in the reminder e-mails: in production it must be set, use
    https and name a host other than this machine (127.0.0.1 is the development default)."""
    url = (settings.SITE_URL or "").strip()
    if not url:
        return [
            Error("SITE_URL is not set: links in reminder e-mails would lead nowhere.", hint=HINT, id="genegate.E001")
        ]
    parts = urlsplit(url)
    errors = []
    if parts.scheme != "https":
        errors.append(Error(f"SITE_URL {url!r} does not use https.", hint=HINT, id="genegate.E002"))
    if not parts.hostname or _is_this_machine(parts.hostname):
        errors.append(
            Error(
                f"SITE_URL {url!r} points at this machine: e-mail links would open the reader's own computer.",
                hint=HINT,
                id="genegate.E003",
            )
        )
    return errors
