"""Issue 15 item 2: the managers' dashboard counts the physicians' overrides (a taper against the
rule, a sign-off with an overridden gate item, a result reviewed without a plan), per site and
kind, over the last 90 days, voided ones left out, and lists the newest; asserted on the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from cases.models import ClinicalOverride
from cases.overrides import OverrideInput, override_record, override_void
from tests.personas import make_case, make_user
from tests.reminders.helpers import NOW

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:dashboard")
WORDS = "Explained in the physician's own words, long enough."


def _override(case, kind, by, *, at=NOW, code="other", label="Other clinical reason"):
    return override_record(
        case=case,
        kind=kind,
        given=OverrideInput(reason_code=code, reason_label=label, explanation=WORDS),
        subject=f"Test {kind}",
        by=by,
        at=at,
    )


def _site_row(body: str, short_code: str) -> list[int]:
    row = re.search(rf'<tr data-overrides-site="{short_code}">(.*?)</tr>', body, re.S).group(1)
    return [int(n) for n in re.findall(r'<td class="text-end[^"]*">(\d+)</td>', row)]


def _total(body: str) -> int:
    return int(re.search(r'data-overrides-total="(\d+)"', body).group(1))


@pytest.fixture
def overrides(cast):
    K = ClinicalOverride.Kind
    other = make_case(cast.site_a, name="Owen Override", mrn="MRN-O")
    b_case = make_case(cast.site_b, name="Bee Outsider", mrn="MRN-B")
    physician_b = make_user("physb", "physician", cast.site_b)
    _override(cast.case_a, K.TAPER, cast.physician, code="hepatology_advised", label="Pediatric hepatology advised")
    _override(cast.case_a, K.NO_PLAN, cast.physician, at=NOW - timedelta(days=2))
    _override(other, K.SIGN_OFF, cast.physician, at=NOW - timedelta(days=10), label="Waiting would harm the child")
    _override(other, K.NO_PLAN, cast.physician, at=NOW - timedelta(days=91))  # outside the 90 days
    voided = _override(other, K.NO_PLAN, cast.physician, at=NOW - timedelta(days=1))
    override_void(voided, by=cast.physician, reason="Acknowledgement voided: wrong child")
    _override(b_case, K.TAPER, physician_b)
    return {"other": other, "b_case": b_case}


def test_the_dashboard_counts_overrides_by_site_and_kind_and_lists_the_newest(cast, client, overrides):
    admin = make_user("boss", "admin", cast.site_a, cast.site_b)
    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        body = client.get(URL).content.decode()
    assert "Decisions against the rules, last 90 days" in body
    # Columns: taper, sign-off, no plan, total. The voided and the 91-day-old ones are not counted.
    assert _site_row(body, "A") == [1, 1, 1, 3]
    assert _site_row(body, "B") == [1, 0, 0, 1]
    assert _total(body) == 4
    newest = re.findall(r'<li class="mb-1" data-override="(\w+)">', body)
    assert newest == ["taper", "taper", "no_plan", "sign_off"]
    assert "Owen Override" in body and "Pediatric hepatology advised" in body
    assert "Infusion signed with an overridden gate item" in body


def test_a_manager_sees_only_their_sites_overrides_and_the_site_filter_applies(cast, client, overrides):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        body = client.get(URL).content.decode()
        assert _site_row(body, "A") == [1, 1, 1, 3] and 'data-overrides-site="B"' not in body
        assert "Bee Outsider" not in body and _total(body) == 3
        filtered = client.get(URL, {"site": cast.site_a.pk}).content.decode()
    assert _total(filtered) == 3


def test_a_new_override_shows_at_once_on_the_cached_dashboard(cast, client, django_capture_on_commit_callbacks):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        assert _total(client.get(URL).content.decode()) == 0
        with django_capture_on_commit_callbacks(execute=True):
            _override(cast.case_a, ClinicalOverride.Kind.SIGN_OFF, cast.physician)
        assert _total(client.get(URL).content.decode()) == 1
