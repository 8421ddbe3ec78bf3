"""Uploaded documents: judged by their content, never by their name or the browser's claim.

A document is accepted only when its bytes are a PDF (starts with ``%PDF-`` and pypdf can open
it and count its pages) or a PNG/JPEG image (magic bytes, then Pillow's ``verify()``), and it is
at most ``settings.DOCUMENT_MAX_BYTES``. The stored path carries the site, case and hash, never
the uploaded filename (which may hold a patient's name).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import File

from cases.models import Document

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
# Magic numbers: PDF 1.7 (ISO 32000-1 §7.5.2 header), PNG spec §5.2 signature, JPEG SOI + marker.
_MAGIC = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
_CHUNK = 64 * 1024


class DocumentRejected(ValueError):
    """The upload is not a document we accept; the message is for the user."""


@dataclass(frozen=True)
class CheckedDocument:
    content_type: str
    size: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def max_size_text() -> str:
    return f"{settings.DOCUMENT_MAX_BYTES // (1024 * 1024)} MB"


def _sniff(head: bytes) -> str | None:
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def _pdf_opens(stream: IO[bytes]) -> bool:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(stream, strict=False).pages) > 0
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError, RecursionError):
        return False


def _image_verifies(stream: IO[bytes], expected: str) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(stream) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return {"PNG": PNG, "JPEG": JPEG}.get(fmt or "") == expected


# Markup or script inside a report means a polyglot (a file that is also a web page or carries
# active content): a lab or genetic report needs neither. OWASP file-upload cheat sheet.
_ACTIVE_MARKERS = (b"<script", b"<html", b"<iframe", b"<svg", b"<body", b"javascript:", b"/javascript", b"/js ")
# What must end an image: PNG's IEND chunk (PNG spec §11.2.5), JPEG's EOI marker (ITU T.81).
_IMAGE_END = {PNG: b"IEND\xaeB`\x82", JPEG: b"\xff\xd9"}


def _polyglot_reason(upload: File, content_type: str) -> str | None:
    """Return why the file looks like a polyglot, or None.

    1. Look for markup or script markers anywhere in the file (case-insensitive).
    2. For images, refuse bytes after the format's end marker (a page or archive appended).
    """
    upload.seek(0)
    tail = b""
    for chunk in upload.chunks(_CHUNK):
        window = (tail + chunk).lower()
        if any(marker in window for marker in _ACTIVE_MARKERS):
            return "This file contains web-page markup or script; upload the report as a plain PDF or image."
        tail = window[-32:]
    if content_type in _IMAGE_END:
        upload.seek(0)
        data = upload.read()
        end = data.rfind(_IMAGE_END[content_type])
        if end == -1 or data[end + len(_IMAGE_END[content_type]) :].strip(b"\x00\r\n "):
            return "This image has extra data after its end; upload a plain PNG or JPEG."
    return None


def document_check(upload: File) -> CheckedDocument:
    """Return the upload's type, size and SHA-256, or raise DocumentRejected saying why.

    1. Refuse an empty file or one above DOCUMENT_MAX_BYTES (before reading it).
    2. Read the first bytes: PDF, PNG or JPEG magic, else refuse.
    3. Open it with the matching library (pypdf / Pillow verify): a renamed or broken file fails.
    4. Refuse polyglots: markup or script inside, or data after an image's end.
    5. Hash the whole content.
    """
    size = upload.size or 0
    if size == 0:
        raise DocumentRejected("The file is empty.")
    if size > settings.DOCUMENT_MAX_BYTES:
        raise DocumentRejected(f"The file is {size / (1024 * 1024):.1f} MB; the limit is {max_size_text()}.")
    upload.seek(0)
    content_type = _sniff(upload.read(16))
    if content_type is None:
        raise DocumentRejected("This file is not a PDF, PNG or JPEG (judged by its content, not its name).")
    upload.seek(0)
    ok = _pdf_opens(upload) if content_type == PDF else _image_verifies(upload, content_type)
    if not ok:
        kind = "PDF" if content_type == PDF else "image"
        raise DocumentRejected(f"This {kind} is damaged or incomplete and cannot be opened.")
    reason = _polyglot_reason(upload, content_type)
    if reason:
        raise DocumentRejected(reason)
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return CheckedDocument(content_type=content_type, size=size, sha256=digest.hexdigest())


def document_store(*, case, kind: str, upload: File, by=None):
    """Check ``upload`` and attach it to ``case``; return the saved Document.

    Raises DocumentRejected (nothing saved) when the content is not acceptable.
    """

    checked = document_check(upload)
    original = (getattr(upload, "name", "") or "document").rsplit("/", 1)[-1][:255]
    document = Document(
        case=case,
        kind=kind,
        original_name=original,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=by,
    )
    upload.seek(0)
    # upload_to (cases.models.document_path) ignores this name; the extension comes from the content.
    document.file.save(f"upload.{checked.extension}", upload, save=False)
    document.save()
    return document
