"""Upload attacks: wrong type by content, polyglots, oversize, too many files → a clear error, nothing stored."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cases.models import Document
from tests.billing.helpers import huge_png, many_page_pdf


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="JPEG")
    return out.getvalue()


def _pdf(javascript: bool = False) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if javascript:
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('x');")}
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


POLYGLOTS = {
    "png-with-html-appended.png": (_png() + b"<html><script>alert(1)</script></html>", "image/png"),
    "jpeg-with-zip-appended.jpg": (_jpeg() + b"PK\x03\x04" + b"\x00" * 40, "image/jpeg"),
    "pdf-with-javascript.pdf": (_pdf(javascript=True), "application/pdf"),
    "pdf-that-is-a-page.pdf": (b"%PDF-1.4\n<html><body><script>alert(1)</script>" + _pdf()[9:], "application/pdf"),
    "html-named-pdf.pdf": (b"<html><script>alert(1)</script></html>", "application/pdf"),
    "svg-named-png.png": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/png"),
}


def _post(client, case, upload):
    return client.post(reverse("cases:document_add", args=[case.pk]), {"kind": "lab_report", "file": upload})


@pytest.mark.parametrize("name", sorted(POLYGLOTS))
def test_polyglots_and_disguised_files_are_refused_next_to_the_field(cast, client, name):
    content, mime = POLYGLOTS[name]
    client.force_login(cast.coordinator)
    response = _post(client, cast.case_a, SimpleUploadedFile(name, content, content_type=mime))
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert "invalid-feedback" in body or "not a PDF" in body or "markup" in body or "extra data" in body
    assert not Document.objects.exists()


def test_a_plain_pdf_png_and_jpeg_are_still_accepted(cast, client):
    client.force_login(cast.coordinator)
    for name, content in (("a.pdf", _pdf()), ("b.png", _png()), ("c.jpg", _jpeg())):
        _post(client, cast.case_a, SimpleUploadedFile(name, content))
    assert Document.objects.count() == 3


def test_an_oversized_file_is_refused(cast, client, settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    client.force_login(cast.coordinator)
    response = _post(client, cast.case_a, SimpleUploadedFile("big.pdf", _pdf() + b"0" * 2000))
    assert "the limit is" in response.content.decode()
    assert not Document.objects.exists()


def test_too_many_files_in_one_request_is_a_clear_400_and_nothing_is_stored(cast, client):
    client.force_login(cast.coordinator)
    files = [SimpleUploadedFile(f"f{i}.pdf", _pdf()) for i in range(8)]
    response = client.post(reverse("cases:document_add", args=[cast.case_a.pk]), {"kind": "lab_report", "file": files})
    assert response.status_code == 400
    assert "more than 5 files" in response.content.decode()
    assert not Document.objects.exists()


# --- What a document costs to render, not just its bytes (issue 13 item 3) ---------------------
def test_a_3000_page_pdf_is_refused_next_to_the_field_though_small_in_bytes(cast, client):
    content = many_page_pdf(3000)
    assert len(content) < 500_000
    client.force_login(cast.coordinator)
    response = _post(client, cast.case_a, SimpleUploadedFile("titer.pdf", content, content_type="application/pdf"))
    body = response.content.decode()
    assert response.status_code == 400  # the document form's refusal, shown next to the field
    assert "This PDF has 3,000 pages; the limit is 100" in body and "invalid-feedback" in body
    assert not Document.objects.exists()


def test_a_144_megapixel_png_is_refused_next_to_the_field_though_small_in_bytes(cast, client):
    content = huge_png(12000, 12000)
    assert len(content) < 50_000
    client.force_login(cast.coordinator)
    response = _post(client, cast.case_a, SimpleUploadedFile("titer.png", content, content_type="image/png"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "12,000 × 12,000 pixels; the limit is 25 megapixels" in body and "invalid-feedback" in body
    assert not Document.objects.exists()


def test_documents_within_the_limits_are_accepted(cast, client):
    client.force_login(cast.coordinator)
    _post(client, cast.case_a, SimpleUploadedFile("a.pdf", many_page_pdf(100)))
    _post(client, cast.case_a, SimpleUploadedFile("b.png", huge_png(5000, 5000)))
    assert Document.objects.count() == 2


def test_an_image_beyond_pillows_own_bomb_limit_is_refused_as_too_large(cast, client):
    client.force_login(cast.coordinator)
    response = _post(client, cast.case_a, SimpleUploadedFile("b.png", huge_png(20000, 10000)))
    assert "far more than 25 megapixels" in response.content.decode()
    assert not Document.objects.exists()


def test_the_intake_genetic_report_has_the_same_limits(cast):
    from cases.forms import CaseForm

    form = CaseForm(files={"genetic_report": SimpleUploadedFile("g.pdf", many_page_pdf(101))}, data={})
    form.is_valid()
    assert "This PDF has 101 pages; the limit is 100" in " ".join(form.errors.get("genetic_report", []))
