"""One HTTP POST of a FHIR resource to a payer's PAS endpoint (standard library only).

- A deadline for the whole exchange (connect, send, every read), not only per socket operation.
- No redirects: a payer's endpoint that redirects is reported, never followed (the bearer token
  would go wherever the redirect points).
- The answer is read up to a size limit.
- The credential comes from the server environment (``Payer.pas_token_env``: NAME, or NAME_FILE
  holding a path); it is never stored in the database, logged or shown.
Nothing here logs the body of a request or an answer.
"""

from __future__ import annotations

import http.client
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

FHIR_JSON = "application/fhir+json"


class TransportError(Exception):
    """No HTTP answer: ``kind`` is "timeout" or "unreachable"; the message is for billing staff."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    too_large: bool = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib's hook
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def operation_url(base: str, operation: str) -> str:
    """``<base>/Claim/$submit`` (or ``$inquire``) for a payer's FHIR base URL."""
    return f"{base.rstrip('/')}/Claim/${operation}"


def credential(env_name: str) -> str | None:
    """The bearer token the server environment holds under ``env_name`` (or in the file named by
    ``env_name``_FILE); None when neither is set. Never logged."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value:
        return value.strip()
    path = os.environ.get(f"{env_name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return None


def post(url: str, body: bytes, *, token: str | None, timeout: float, max_bytes: int) -> Reply:
    """POST ``body`` (FHIR JSON) to ``url``; return the HTTP answer, whatever its status.

    Raises TransportError("timeout") when the deadline passes before the answer is read, and
    TransportError("unreachable") when no connection could be made or it broke.
    """
    if not url.startswith(("https://", "http://")):
        raise TransportError("unreachable", "The payer's PAS endpoint is not an http(s) URL.")
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, "User-Agent": "GeneGate-PAS/2.0.1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    deadline = time.monotonic() + timeout
    try:
        try:
            response = _OPENER.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:  # an answer with a 3xx/4xx/5xx status
            response = exc
        with response:
            status = response.status if hasattr(response, "status") else response.code
            content_type = response.headers.get("Content-Type", "") if response.headers else ""
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise TransportError("timeout", f"The payer did not finish answering within {timeout:g} seconds.")
                chunk = response.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    return Reply(status, b"", content_type, too_large=True)
                chunks.append(chunk)
        return Reply(status, b"".join(chunks), content_type)
    except TransportError:
        raise
    except TimeoutError:
        raise TransportError("timeout", f"The payer did not answer within {timeout:g} seconds.") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TransportError("timeout", f"The payer did not answer within {timeout:g} seconds.") from None
        raise TransportError(
            "unreachable", f"The payer's PAS endpoint could not be reached ({type(exc.reason).__name__})."
        ) from None
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        raise TransportError("unreachable", f"The connection to the payer broke ({type(exc).__name__}).") from None
