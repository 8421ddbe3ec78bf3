"""CSV exports from a lab portal: the laboratory's column mapping, bad rows reported by number
(and kept), good rows recorded."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.inbox.models import InboxMessage, Laboratory
from monitoring.inbox.workflows import receive_csv
from monitoring.models import Result
from tests.inbox.helpers import collected, infused_case
from tests.monitoring.helpers import draw

MAPPING = {
    "mrn": "Patient ID",
    "birth_date": "DOB",
    "family_name": "Last Name",
    "collected_at": "Collected",
    "code": "Test Code",
    "value": "Result",
    "unit": "Units",
    "reference_range": "Ref Range",
    "flag": "Flag",
    "accession": "Accession",
}
HEADER = "Patient ID,DOB,Last Name,Collected,Test Code,Result,Units,Ref Range,Flag,Accession"


@pytest.fixture
def lab(cast):
    infused_case(cast.case_a)
    return Laboratory.objects.create(
        site=cast.site_a,
        name="Portal Lab",
        csv_mapping=MAPPING,
        csv_datetime_format="%m/%d/%Y %H:%M",
        csv_date_format="%m/%d/%Y",
        local_codes={"ALT-L": "1742-6"},
    )


def _row(code, value, unit, ref="", flag="", dob="06/01/2026", when=None, mrn="MRN-MARKER-9137", acc="A-1"):
    at = (when or collected()).strftime("%m/%d/%Y %H:%M")
    return f"{mrn},{dob},Markerchild,{at},{code},{value},{unit},{ref},{flag},{acc}"


def _file(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def test_good_rows_are_recorded_and_each_bad_row_is_reported_by_number(cast, lab):
    text = _file(
        _row("ALT-L", "45", "U/L", "10-60"),
        _row("1920-8", "50", "U/L", "10-60"),
        _row("1975-2", "0.5", "mg/dL", "0.2-1.0", dob="31/31/2026"),  # row 4: bad birth date
        _row("5902-2", "twelve", "s", "10-14"),  # row 5: not a number
        _row("777-3", "250", "furlongs", "150-450"),  # row 6: a unit we cannot convert
        _row("", "1", "U/L"),  # row 7: no test code
    )
    outcomes, problems = receive_csv(text, site=cast.site_a, laboratory=lab)
    assert [p.split(":")[0] for p in problems] == ["Row 4", "Row 5", "Row 6", "Row 7"]
    assert "does not match the laboratory's format %m/%d/%Y" in problems[0]
    assert "is not a number" in problems[1] and "furlongs" in problems[2] and "is empty" in problems[3]
    liver = draw(cast.case_a, "liver", 7)
    assert set(Result.objects.filter(draw=liver).values_list("analyte", flat=True)) == {"alt", "ast"}
    assert InboxMessage.objects.filter(status="failed").count() == 4
    assert InboxMessage.objects.filter(status="processed").count() == 1


def test_the_same_file_again_creates_nothing_new(cast, lab):
    text = _file(_row("1742-6", "45", "U/L", "10-60"), _row("1920-8", "50", "U/L", "10-60"))
    receive_csv(text, site=cast.site_a, laboratory=lab)
    counts = (InboxMessage.objects.count(), Result.objects.count())
    outcomes, _ = receive_csv(text, site=cast.site_a, laboratory=lab)
    assert all(o.duplicate for o in outcomes) and (InboxMessage.objects.count(), Result.objects.count()) == counts


def test_rows_of_two_accessions_make_two_messages(cast, lab):
    text = _file(_row("1742-6", "45", "U/L", "10-60", acc="A-1"), _row("777-3", "250", "10*9/L", acc="A-2"))
    outcomes, problems = receive_csv(text, site=cast.site_a, laboratory=lab)
    assert not problems and [o.message.status for o in outcomes] == ["processed", "processed"]


def test_a_file_without_a_mapped_column_is_refused_whole_with_the_reason(cast, lab):
    text = "Patient ID,DOB,When,Test Code,Result\nX,06/01/2026,01/01/2027 10:00,1742-6,40\n"
    outcomes, problems = receive_csv(text, site=cast.site_a, laboratory=lab)
    assert "The file has no column" in problems[0] and "'Collected'" in problems[0]
    assert outcomes[0].message.status == "failed" and not Result.objects.exists()


def test_an_incomplete_mapping_is_named(cast, lab):
    lab.csv_mapping = {"mrn": "Patient ID", "bogus": "X"}
    lab.save()
    _outcomes, problems = receive_csv(_file(_row("1742-6", "45", "U/L")), site=cast.site_a, laboratory=lab)
    assert "Unknown field 'bogus'" in problems[0] and "'birth_date'" in problems[0]


def test_the_upload_page_shows_each_bad_row(cast, client, lab):
    client.force_login(cast.coordinator)
    text = _file(_row("1742-6", "45", "U/L", "10-60"), _row("1920-8", "?", "U/L"))
    upload = SimpleUploadedFile("export.csv", text.encode(), content_type="text/csv")
    response = client.post(
        reverse("monitoring:inbox_upload"),
        {"source": "csv", "site": cast.site_a.pk, "laboratory": lab.pk, "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    assert "Row 3:" in response.content.decode()


def test_csv_needs_a_laboratory_and_utf8(cast, client, lab):
    client.force_login(cast.coordinator)
    bad = SimpleUploadedFile("export.csv", "Zyxwé".encode("utf-16"), content_type="text/csv")
    response = client.post(reverse("monitoring:inbox_upload"), {"source": "csv", "site": cast.site_a.pk, "file": bad})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Choose the laboratory" in body and "not UTF-8" in body
