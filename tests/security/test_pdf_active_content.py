"""Issue 13 item 8: PDF uploads are inspected with pypdf (decoded names and objects), so script,
launch and embedded-file actions are refused however the file spells them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from cases.documents import DocumentRejected, document_check
from cases.models import Document


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    return writer


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def open_action(kind: str = "/JavaScript", **entries) -> bytes:
    writer = _writer()
    entries = entries or {"JS": "app.alert('x');"}
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_action(kind, **entries))
    return _write(writer)


def link_annotation(action: DictionaryObject) -> bytes:
    writer = _writer()
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)]),
            NameObject("/A"): writer._add_object(action),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return _write(writer)


def page_additional_action() -> bytes:
    writer = _writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action("/JavaScript", JS="this.print()")})
    return _write(writer)


def embedded_file() -> bytes:
    writer = _writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really a program")
    return _write(writer)


def name_escaped(content: bytes) -> bytes:
    """Spell the names with #xx escapes (ISO 32000-1 §7.3.5), so no byte search for
    "javascript", "/js ", "/launch" or "/embeddedfile" finds them; pypdf reads the same names."""
    return (
        content.replace(b"/JavaScript", b"/J#61vaScript")
        .replace(b"/JS ", b"/J#53 ")
        .replace(b"/Launch", b"/L#61unch")
        .replace(b"/EmbeddedFiles", b"/Embedd#65dFiles")
        .replace(b"/EmbeddedFile", b"/Embedd#65dFile")
    )


REFUSED = {
    "open-action-javascript": (open_action(), "JavaScript"),
    "name-escaped-javascript": (name_escaped(open_action()), "JavaScript"),
    "link-javascript": (link_annotation(_action("/JavaScript", JS="app.alert(1)")), "JavaScript"),
    "link-launch": (link_annotation(_action("/Launch", F="calc.exe")), "launches a program"),
    "name-escaped-launch": (name_escaped(link_annotation(_action("/Launch", F="calc.exe"))), "launches a program"),
    "open-action-launch": (open_action("/Launch", F="cmd.exe"), "launches a program"),
    "page-additional-action": (page_additional_action(), "JavaScript"),
    "embedded-file": (embedded_file(), "embedded file"),
    "name-escaped-embedded-file": (name_escaped(embedded_file()), "embedded file"),
    "goto-embedded": (link_annotation(_action("/GoToE")), "embedded file"),
}


def test_the_escaped_samples_really_hide_from_a_byte_search():
    for name in ("name-escaped-javascript", "name-escaped-launch", "name-escaped-embedded-file"):
        raw = REFUSED[name][0].lower()
        assert b"javascript" not in raw and b"/js " not in raw and b"/launch" not in raw, name
        assert b"/embeddedfile" not in raw, name


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_active_pdf_content_is_refused_however_encoded(name):
    content, reason = REFUSED[name]
    with pytest.raises(DocumentRejected, match=reason):
        document_check(SimpleUploadedFile(f"{name}.pdf", content))


def test_a_password_protected_pdf_is_refused_as_uncheckable():
    writer = _writer()
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with pytest.raises(DocumentRejected):  # its objects cannot be read, so they cannot be checked
        document_check(SimpleUploadedFile("locked.pdf", _write(writer)))


def test_an_encrypted_pdf_that_opens_without_a_password_is_still_inspected():
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_action("/JavaScript", JS="app.alert(1)"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    with pytest.raises(DocumentRejected, match="JavaScript"):
        document_check(SimpleUploadedFile("open.pdf", _write(writer)))


def test_plain_pdfs_and_a_web_link_are_accepted():
    assert document_check(SimpleUploadedFile("plain.pdf", _write(_writer()))).content_type == "application/pdf"
    uri = link_annotation(_action("/URI", URI="https://www.example.org/lab"))
    assert document_check(SimpleUploadedFile("link.pdf", uri)).content_type == "application/pdf"


def test_an_escaped_script_upload_is_refused_next_to_the_field_and_nothing_is_stored(cast, client):
    client.force_login(cast.coordinator)
    upload = SimpleUploadedFile("titer.pdf", REFUSED["name-escaped-javascript"][0], content_type="application/pdf")
    response = client.post(reverse("cases:document_add", args=[cast.case_a.pk]), {"kind": "lab_report", "file": upload})
    body = response.content.decode()
    assert response.status_code == 400 and "This PDF contains JavaScript" in body and "invalid-feedback" in body
    assert not Document.objects.exists()
