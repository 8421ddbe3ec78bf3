"""Numbers and redirect targets from a query string or a form, validated in one place.

``int("²")`` raises although ``"²".isdigit()`` is true, and ``int("9" * 30)`` overflows a
PostgreSQL integer: a parameter is a number only when it is 1-18 ASCII digits within bounds
(issue 13 item 7). Anything else is "not given", and the page answers as without it.
"""

from __future__ import annotations

import re

from django.utils.http import url_has_allowed_host_and_scheme

_DIGITS = re.compile(r"[0-9]{1,18}")
PK_MAX = 2**63 - 1  # PostgreSQL bigint, the primary keys' type


def int_param(raw: str | None, *, default: int | None = None, minimum: int = 0, maximum: int = PK_MAX) -> int | None:
    """``raw`` as an int when it is plain ASCII digits within [minimum, maximum], else ``default``."""
    text = (raw or "").strip()
    if not _DIGITS.fullmatch(text):
        return default
    value = int(text)
    return value if minimum <= value <= maximum else default


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site ("/cases/7/"), else None.

    ``url_has_allowed_host_and_scheme`` also passes a bare word such as "9999-12-31", which
    ``redirect()`` then takes for a view name and fails on (a 500): only a path is a target.
    """
    text = (target or "").strip()
    if not text.startswith("/") or text.startswith(("//", "/\\")):
        return None
    return text if url_has_allowed_host_and_scheme(text, allowed_hosts=None) else None
