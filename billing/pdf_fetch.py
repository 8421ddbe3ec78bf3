"""The only way a PA packet render may load a resource: an allow-list URL fetcher for WeasyPrint.

Packets are rendered from HTML that holds user-entered text. Django's autoescaping keeps that
text from becoming markup, and this fetcher is the second wall: whatever URL WeasyPrint asks
for, it serves only
  - the app's own static files (found on disk through the staticfiles finders), and
  - the documents of the case being rendered (bytes handed in by the caller),
addressed under one made-up origin that never touches the network. Everything else —
file://, http(s) to anywhere, data:, redirects — is refused. Issue #4 item 5.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

ORIGIN_HOST = "packet.genegate.internal"
BASE_URL = f"https://{ORIGIN_HOST}/"
STATIC_PREFIX = "/static/"
DOCUMENT_PREFIX = "/documents/"
# Static file types a packet may use (stylesheets and images; fonts come from the system).
STATIC_SUFFIXES = frozenset({".css", ".png", ".svg", ".jpg", ".jpeg"})


def static_url(path: str) -> str:
    return f"{BASE_URL}static/{path}"


def document_url(document_id: int) -> str:
    return f"{BASE_URL}documents/{document_id}"


class RefusedResource(ValueError):
    """A URL outside the allow-list (WeasyPrint logs it and renders without the resource)."""


class PacketURLFetcher(URLFetcher):
    """Serve allow-listed resources from memory or disk; refuse everything else.

    ``documents`` maps a document id to (bytes, content type): the case's own documents only.
    ``refused`` lists the refused URLs' schemes and hosts (not the full URL, which may hold
    patient text) for tests and for the log.
    """

    def __init__(self, documents: dict[int, tuple[bytes, str]] | None = None) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False, fail_on_errors=False, timeout=1)
        self._documents = dict(documents or {})
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.netloc != ORIGIN_HOST or parts.query or parts.username:
            return self._refuse(f"{parts.scheme}://{parts.netloc}")
        path = unquote(parts.path)
        if path.startswith(STATIC_PREFIX):
            return self._static(url, path[len(STATIC_PREFIX) :])
        if path.startswith(DOCUMENT_PREFIX):
            return self._document(url, path[len(DOCUMENT_PREFIX) :])
        return self._refuse(f"https://{ORIGIN_HOST} (path outside the allow-list)")

    def _refuse(self, what: str):
        self.refused.append(what)
        log.warning("PA packet render refused a resource: %s", what)
        raise RefusedResource(f"Resource not allowed in a PA packet: {what}")

    def _static(self, url: str, relative: str):
        pure = PurePosixPath(relative)
        if not relative or pure.is_absolute() or ".." in pure.parts or pure.suffix.lower() not in STATIC_SUFFIXES:
            return self._refuse(f"https://{ORIGIN_HOST}/static (bad path)")
        found = finders.find(str(pure))
        if not found:
            return self._refuse(f"https://{ORIGIN_HOST}/static (not found)")
        body = Path(found).read_bytes()
        content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
        self.served.append(url)
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _document(self, url: str, ident: str):
        if not ident.isdigit() or int(ident) not in self._documents:
            return self._refuse(f"https://{ORIGIN_HOST}/documents (not this case's document)")
        body, content_type = self._documents[int(ident)]
        self.served.append(url)
        return URLFetcherResponse(url, body, {"Content-Type": content_type})
