"""Uploaded documents: judged by their content, never by their name or the browser's claim.

A document is accepted only when its bytes are a PDF (starts with ``%PDF-``, pypdf can open
it and count its pages, and none of its decoded objects is a script, launch or embedded-file
action: ``_pdf_active_content``) or a PNG/JPEG image (magic bytes, then Pillow's ``verify()``), and it is
at most ``settings.DOCUMENT_MAX_BYTES``. What it would cost to render is bounded too: at most
``DOCUMENT_MAX_PDF_PAGES`` pages and ``DOCUMENT_MAX_PIXELS`` pixels (issue 13 item 3); the PA
packet applies the same limits (``pages_problem``, ``pixels_problem``) to what it appends. The
stored path carries the site, case and hash, never the uploaded filename (which may hold a
patient's name).
"""

from __future__ import annotations

import hashlib
import warnings
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


def pages_problem(pages: int) -> str | None:
    """Return why a PDF of ``pages`` pages is refused, or None."""
    limit = settings.DOCUMENT_MAX_PDF_PAGES
    if pages > limit:
        return f"This PDF has {pages:,} pages; the limit is {limit}. Upload only the pages of the report."
    return None


def pixels_problem(width: int, height: int) -> str | None:
    """Return why an image of ``width`` × ``height`` pixels is refused, or None."""
    limit = settings.DOCUMENT_MAX_PIXELS
    if width * height > limit:
        return (
            f"This image is {width:,} × {height:,} pixels; the limit is {limit / 1e6:g} megapixels. "
            "Scan or save it at a lower resolution (300 dpi is plenty for a report)."
        )
    return None


def _pdf_pages(stream: IO[bytes]) -> int | None:
    """The PDF's page count, or None when pypdf cannot open it or it has no pages.

    A page tree that declares more pages than the limit is answered from its /Count without
    walking it, so a huge tree costs nothing to refuse.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    errors = (
        PyPdfError,
        DependencyError,  # e.g. an AES-encrypted file: pypdf would need the cryptography package
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        OSError,
        RecursionError,
    )
    try:
        reader = PdfReader(stream, strict=False)
    except errors:
        return None
    try:
        declared = reader.root_object["/Pages"].get_object().get("/Count")
    except errors:
        declared = None  # a damaged tree: counting the pages below decides
    if isinstance(declared, int) and declared > settings.DOCUMENT_MAX_PDF_PAGES:
        return int(declared)
    try:
        pages = len(reader.pages)
    except errors:
        return None
    return pages or None


def image_dimensions(stream: IO[bytes]) -> tuple[str, int, int] | None:
    """(format, width, height) from the image's header, without decoding it; None if unreadable.

    Pillow's own decompression-bomb guard warns from 89 and refuses from 179 megapixels; our
    limit is lower, so its warning is silenced here and the size is judged by pixels_problem.
    Raises DocumentRejected for an image beyond Pillow's refusal size.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                return image.format or "", image.width, image.height
    except Image.DecompressionBombError:
        limit = settings.DOCUMENT_MAX_PIXELS / 1e6
        raise DocumentRejected(f"This image has far more than {limit:g} megapixels, the limit.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _image_verifies(stream: IO[bytes]) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


_IMAGE_FORMATS = {"PNG": PNG, "JPEG": JPEG}


# What makes a PDF act rather than show (ISO 32000-1 §12.6.4 action types, §7.11.4 embedded
# files, §12.7.8 XFA): a lab or genetic report needs none of it. Names as pypdf decodes them, so
# "/J#61vaScript" in the file is "/JavaScript" here (issue 13 item 8: the byte search missed it).
_PDF_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "an action that launches a program",
    "/GoToE": "a link into an embedded file",
    "/ImportData": "an action that imports data",
    "/RichMediaExecute": "rich-media script",
}
_PDF_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/EmbeddedFiles": "an embedded file",
    "/EF": "an embedded file",
    "/XFA": "an XFA form (which can carry script)",
}
_PDF_TYPES = {"/EmbeddedFile": "an embedded file"}
# Objects and values looked at before a PDF counts as too complex to check (a report has a few
# hundred objects; the page limit bounds the rest).
PDF_MAX_OBJECTS = 50_000
PDF_MAX_VALUES = 2_000_000


def _pdf_active_content(stream: IO[bytes]) -> str | None:
    """Why the PDF would act when opened or clicked (script, launch, embedded file), or None.

    Every object the file declares (its cross-reference tables and object streams) and every
    object reachable from its trailer is decoded by pypdf and each dictionary inspected: an
    action's /S type, script and embedded-file keys, an /EmbeddedFile type. An encrypted PDF or
    an object pypdf cannot read is refused: what cannot be inspected is not accepted.
    """
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, PyPdfError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    errors = (
        PyPdfError,
        DependencyError,  # e.g. an AES-encrypted file: pypdf would need the cryptography package
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        OSError,
        RecursionError,
    )
    unreadable = "This PDF could not be fully read to check it for script; upload a plain PDF of the report."
    too_complex = "This PDF has too many objects to check; upload only the pages of the report."
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return "This PDF is encrypted; upload it without a password."
        declared = [(gen, idnum) for gen, table in reader.xref.items() for idnum in table]
        declared += [(0, idnum) for idnum in reader.xref_objStm]
    except errors:
        return unreadable
    if len(declared) > PDF_MAX_OBJECTS:
        return too_complex
    pending: list = [reader.trailer, *(IndirectObject(idnum, gen, reader) for gen, idnum in declared)]
    seen: set[tuple[int, int]] = set()
    values = 0
    while pending:
        values += 1
        if values > PDF_MAX_VALUES or len(seen) > PDF_MAX_OBJECTS:
            return too_complex
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                item = item.get_object()
            except errors:
                return unreadable
        if isinstance(item, DictionaryObject):  # stream dictionaries too
            for name, value in item.items():
                if name in _PDF_KEYS:
                    return f"This PDF contains {_PDF_KEYS[name]}; upload a plain PDF of the report."
                if isinstance(value, NameObject):
                    if name == "/S" and value in _PDF_ACTIONS:
                        return f"This PDF contains {_PDF_ACTIONS[value]}; upload a plain PDF of the report."
                    if name == "/Type" and value in _PDF_TYPES:
                        return f"This PDF contains {_PDF_TYPES[value]}; upload a plain PDF of the report."
                if isinstance(value, DictionaryObject | ArrayObject | IndirectObject):
                    pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(v for v in item if isinstance(v, DictionaryObject | ArrayObject | IndirectObject))
    return None


def _content_problem(upload: File, content_type: str) -> str | None:
    """Return why the file cannot be opened or costs too much to render, or None.

    An image's size is read from its header and judged before ``verify()`` reads its data.
    """
    upload.seek(0)
    if content_type == PDF:
        pages = _pdf_pages(upload)
        if pages is None:
            return "This PDF is damaged or incomplete and cannot be opened."
        return pages_problem(pages) or _pdf_active_content(upload)
    damaged = "This image is damaged or incomplete and cannot be opened."
    found = image_dimensions(upload)
    if found is None:
        return damaged
    fmt, width, height = found
    problem = pixels_problem(width, height)
    if problem:
        return problem
    upload.seek(0)
    if _IMAGE_FORMATS.get(fmt) != content_type or not _image_verifies(upload):
        return damaged
    return None


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
    3. Open it with the matching library (pypdf / Pillow verify): a renamed or broken file fails;
       refuse more pages or pixels than the limits (what rendering it would cost).
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
    problem = _content_problem(upload, content_type)
    if problem:
        raise DocumentRejected(problem)
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
