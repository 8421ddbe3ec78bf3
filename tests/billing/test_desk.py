"""The billing desk (issue 17 item 7): billing's home page, its sections, filters, site scoping,
the decision clock of each payer (and the message when a payer has none), and its query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import pa_rules
from billing.desk import span_words
from billing.forms import PayerForm
from billing.models import Claim, PAEvent, PAPacket, PAStatus, Payer, PriorAuthorization
from cases.infusion.models import InfusionRecord
from tests.billing.helpers import make_payer
from tests.pages import badge_after, table
from tests.personas import make_case, make_user

NY = ZoneInfo("America/New_York")
DESK = "/billing/desk/"


# --- The one decision-due function ------------------------------------------------------------------
IMPACTED = pa_rules.DecisionClock(impacted=True)
OWN = pa_rules.DecisionClock(impacted=False, standard_days=15, expedited_hours=48)
UNSET = pa_rules.DecisionClock(impacted=False)


def test_an_impacted_payer_decides_standard_requests_in_7_calendar_days():
    received = datetime(2026, 12, 3, 14, 5, tzinfo=NY)
    assert pa_rules.decision_due(received, expedited=False, clock=IMPACTED, tz=NY) == datetime(
        2026, 12, 10, 14, 5, tzinfo=NY
    )


def test_an_impacted_payer_decides_expedited_requests_in_72_hours():
    received = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    assert pa_rules.decision_due(received, expedited=True, clock=IMPACTED) == received + timedelta(hours=72)


def test_seven_calendar_days_keep_the_wall_clock_across_a_daylight_saving_change():
    received = datetime(2026, 10, 30, 9, 0, tzinfo=NY)  # EDT; the clocks go back on 1 Nov 2026
    due = pa_rules.decision_due(received, expedited=False, clock=IMPACTED, tz=NY)
    assert due.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 6, 9, 0)


def test_a_payer_not_impacted_uses_its_own_days_and_hours():
    received = datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert pa_rules.decision_due(received, expedited=False, clock=OWN, tz=NY) == datetime(2026, 12, 18, 8, tzinfo=NY)
    assert pa_rules.decision_due(received, expedited=True, clock=OWN, tz=NY) == received + timedelta(hours=48)


def test_a_payer_without_a_setting_has_no_clock_never_a_guessed_one():
    received = datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert pa_rules.decision_due(received, expedited=False, clock=UNSET, tz=NY) is None
    assert pa_rules.decision_due(received, expedited=True, clock=UNSET, tz=NY) is None
    only_days = pa_rules.DecisionClock(impacted=False, standard_days=10)
    assert pa_rules.decision_due(received, expedited=True, clock=only_days, tz=NY) is None
    assert pa_rules.decision_due(received, expedited=False, clock=None) is None


def test_a_day_without_a_time_counts_from_the_start_of_that_day_in_the_sites_zone():
    due = pa_rules.decision_due(date(2026, 12, 3), expedited=True, clock=IMPACTED, tz=NY)
    assert due == datetime(2026, 12, 6, 0, 0, tzinfo=NY)


def test_durations_read_in_words():
    assert span_words(timedelta(days=2, hours=3, minutes=59)) == "2 days 3 hours"
    assert span_words(timedelta(hours=1)) == "1 hour"
    assert span_words(timedelta(minutes=20)) == "less than an hour"


# --- Payer settings ---------------------------------------------------------------------------------
def _payer(name: str, **fields) -> Payer:
    return Payer.objects.filter(name=name).first() or make_payer(name, **fields)


def _payer_form(**changes):
    payer = _payer("Form Payer")
    form = PayerForm(instance=payer)
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None}
    data.update(changes)
    return PayerForm(data=data, instance=payer)


@pytest.mark.django_db
def test_an_impacted_payer_takes_no_own_decision_times():
    form = _payer_form(cms_0057_impacted="on", standard_decision_days="10")
    assert not form.is_valid()
    assert "72 hours" in form.errors["standard_decision_days"][0]


@pytest.mark.django_db
def test_a_payers_own_decision_times_are_bounded():
    form = _payer_form(standard_decision_days="0", expedited_decision_hours="9999", appeal_window_days="abc")
    assert not form.is_valid()
    assert {"standard_decision_days", "expedited_decision_hours", "appeal_window_days"} <= set(form.errors)
    ok = _payer_form(standard_decision_days="15", expedited_decision_hours="72", appeal_window_days="180")
    assert ok.is_valid(), ok.errors
    payer = ok.save()
    assert (payer.standard_decision_days, payer.expedited_decision_hours, payer.appeal_window_days) == (15, 72, 180)


# --- The desk's data ----------------------------------------------------------------------------------
def _pa(case, payer, status, *, events=(), **fields) -> PriorAuthorization:
    pa = PriorAuthorization.objects.create(case=case, payer=payer, status=status, **fields)
    for to_status, at, extra in events:
        PAEvent.objects.create(prior_authorization=pa, to_status=to_status, on=timezone.localdate(at), at=at, **extra)
    return pa


def _packet(case, *, final: bool, version: int = 1) -> PAPacket:
    return PAPacket.objects.create(
        case=case,
        version=version,
        final=final,
        file=f"packets/test-{case.pk}-{version}.pdf",
        sha256="0" * 64,
        size=1,
        page_count=1,
        snapshot={},
    )


def _claim(case, user, *, errors: list[str], version: int = 1) -> Claim:
    record, _ = InfusionRecord.objects.get_or_create(
        case=case, defaults={"infused_on": timezone.localdate(), "weight_kg": Decimal("5.2"), "entered_by": user}
    )
    findings = [{"code": "x", "severity": "error", "message": m, "fix": "", "source": ""} for m in errors]
    findings.append({"code": "w", "severity": "warning", "message": "A warning only.", "fix": "", "source": ""})
    return Claim.objects.create(
        case=case,
        version=version,
        record=record,
        record_version=1,
        claim_type="professional",
        reason="Built for the test.",
        data={"findings": findings},
        sha256="0" * 64,
    )


class World:
    """One case per desk section at site A, the same again at site B (never shown to site A)."""

    def __init__(self, cast, n: int = 1, start: int = 0):
        now = timezone.now()
        today = timezone.localdate()
        self.impacted = _payer("Medicaid Test", cms_0057_impacted=True, appeal_window_days=60)
        self.unset = _payer("No Clock Health")
        self.own = _payer("Own Clock Plan", standard_decision_days=15, expedited_decision_hours=48)
        for i in range(start, start + n):
            for site, tag in ((cast.site_a, "A"), (cast.site_b, "B")):
                self._cases(site, f"{tag}{i}", now, today, cast)

    def _cases(self, site, tag, now, today, cast):
        def case(label, **fields):
            return make_case(site, name=f"{label} {tag}", mrn=f"MRN-{label}-{tag}", **fields)

        ready = case("Ready", planned_infusion_date=today + timedelta(days=9))
        _pa(ready, self.impacted, PAStatus.DRAFT)
        _packet(ready, final=False, version=1)
        _packet(ready, final=True, version=2)
        draft_only = case("Draftonly")
        _pa(draft_only, self.impacted, PAStatus.DRAFT)
        _packet(draft_only, final=False)

        overdue = case("Overdue")
        _pa(overdue, self.impacted, PAStatus.SUBMITTED, submitted_on=today - timedelta(days=9),
            events=[(PAStatus.SUBMITTED, now - timedelta(days=9), {})])  # fmt: skip
        soon = case("Soon")
        _pa(soon, self.impacted, PAStatus.SUBMITTED, expedited=True, submitted_on=today,
            events=[(PAStatus.SUBMITTED, now - timedelta(hours=10), {})])  # fmt: skip
        noclock = case("Noclock")
        _pa(noclock, self.unset, PAStatus.SUBMITTED, submitted_on=today - timedelta(days=2),
            events=[(PAStatus.SUBMITTED, now - timedelta(days=2), {})])  # fmt: skip

        pended = case("Pended")
        _pa(pended, self.own, PAStatus.PENDED, submitted_on=today - timedelta(days=5),
            events=[(PAStatus.SUBMITTED, now - timedelta(days=5), {}),
                    (PAStatus.PENDED, now - timedelta(days=1), {"note": "Send the baseline troponin-I result."})])  # fmt: skip

        denied = case("Denied")
        _pa(denied, self.impacted, PAStatus.DENIED, denial_reason="titer", submitted_on=today - timedelta(days=20),
            events=[(PAStatus.SUBMITTED, now - timedelta(days=20), {}),
                    (PAStatus.DENIED, now - timedelta(days=10),
                     {"denial_reason": "titer", "note": "Titer report older than 14 days."})])  # fmt: skip
        denied_unset = case("Nowindow")
        _pa(denied_unset, self.unset, PAStatus.DENIED, denial_reason="age",
            events=[(PAStatus.DENIED, now - timedelta(days=3), {"denial_reason": "age"})])  # fmt: skip

        expiring = case("Expiring", planned_infusion_date=today + timedelta(days=12), stage="pa_approved")
        _pa(expiring, self.own, PAStatus.APPROVED, valid_from=today - timedelta(days=20),
            valid_through=today + timedelta(days=5), auth_number="AUTH-1")  # fmt: skip
        covered = case("Covered", planned_infusion_date=today + timedelta(days=4), stage="pa_approved")
        _pa(covered, self.own, PAStatus.APPROVED, valid_from=today, valid_through=today + timedelta(days=30))

        claim_case = case("Claimerr", stage="infused")
        _claim(claim_case, cast.billing, errors=["The payer does not allow place of service 11."], version=1)
        clean_now = case("Claimfixed", stage="infused")
        _claim(clean_now, cast.billing, errors=["Old error."], version=1)
        _claim(clean_now, cast.billing, errors=[], version=2)


@pytest.fixture
def world(cast):
    return World(cast)


@pytest.fixture
def desk_page(client, cast, world):
    def get(query: str = "", user=None):
        client.force_login(user or cast.billing)
        response = client.get(DESK + query)
        assert response.status_code == 200
        return response.content.decode()

    return get


def _names(html: str, section: str) -> list[str]:
    return [row[0].split(" ")[0] for row in table(html, f"desk-{section}-h") if len(row) > 1]


def test_ready_to_submit_lists_drafts_whose_newest_packet_is_final(desk_page):
    html = desk_page()
    assert _names(html, "ready") == ["Ready"]
    assert "Final packet, version 2" in html
    assert badge_after(html, "desk-ready-h") == 1


def test_awaiting_decision_shows_due_times_in_the_sites_zone_and_overdue_in_words(desk_page):
    html = desk_page()
    rows = table(html, "desk-awaiting-h")
    by_name = {row[0].split(" ")[0]: row for row in rows}
    assert set(by_name) == {"Overdue", "Soon", "Noclock"}
    assert rows[0][0].startswith("Overdue")  # the overdue one leads
    assert "Overdue by 2 days" in by_name["Overdue"][3]
    assert "Due in 2 days 14 hours" in by_name["Soon"][3] or "Due in 2 days 13 hours" in by_name["Soon"][3]
    assert " EST" in by_name["Soon"][3] or " EDT" in by_name["Soon"][3]
    assert "<tr data-overdue>" in html and 'state-overdue">Overdue</span>' in html


def test_a_payer_without_a_decision_time_gets_a_clear_message_and_an_admin_link(desk_page, cast, world):
    html = desk_page()
    row = next(r for r in table(html, "desk-awaiting-h") if r[0].startswith("Noclock"))
    assert "No decision time set for No Clock Health" in row[3]
    assert "Ask an administrator" in row[3]
    admin = make_user("ada", "admin", cast.site_a)
    html = desk_page(user=admin)
    assert reverse("billing:payer_edit", args=[world.unset.pk]) in html
    assert "Set the payer's decision times" in html


def test_pended_requests_show_what_the_payer_asked(desk_page):
    rows = table(desk_page(), "desk-pended-h")
    assert len(rows) == 1
    assert "Send the baseline troponin-I result." in rows[0][3]
    assert "Due in" in rows[0][4]  # the payer's own 15 days


def test_denials_show_the_specific_reason_and_the_appeal_deadline(desk_page):
    rows = {r[0].split(" ")[0]: r for r in table(desk_page(), "desk-denied-h")}
    assert "AAV9 antibody titer not documented" in rows["Denied"][2]
    assert "The payer wrote: Titer report older than 14 days." in rows["Denied"][2]
    deadline = timezone.localdate() - timedelta(days=10) + timedelta(days=60)
    assert f"{deadline.day} {deadline.strftime('%b')} {deadline.year}" in rows["Denied"][3]
    assert "50 days left" in rows["Denied"][3]
    assert "No appeal window set for No Clock Health" in rows["Nowindow"][3]


def test_approvals_ending_before_the_planned_infusion(desk_page):
    html = desk_page()
    assert _names(html, "expiring") == ["Expiring"]
    assert "ends 7 days before the infusion" in html


def test_claims_with_scrubber_errors_read_the_newest_version_only(desk_page):
    html = desk_page()
    assert _names(html, "claims") == ["Claimerr"]
    assert "The payer does not allow place of service 11." in html
    assert "Old error." not in html and "A warning only." not in html


def test_another_sites_cases_never_appear_and_counts_are_per_site(desk_page, cast):
    html = desk_page()
    assert " B0" not in html and "MRN-Ready-B0" not in html
    counts = table(html, "desk-sites-h")
    assert [row[0] for row in counts] == ["Site A Children's"]
    assert counts[0][1:] == ["1", "3", "1", "2", "1", "1", "1 overdue"]
    both = make_user("both", "billing", cast.site_a, cast.site_b)
    html = desk_page(user=both)
    assert len(table(html, "desk-sites-h")) == 2
    html = desk_page(f"?site={cast.site_b.pk}", user=both)
    assert _names(html, "ready") == ["Ready"] and "Ready B0" in html and "Ready A0" not in html


def test_filters_narrow_by_site_section_payer_and_overdue(desk_page, cast, world):
    html = desk_page("?section=denied")
    assert 'id="desk-denied-h"' in html and 'id="desk-ready-h"' not in html
    html = desk_page(f"?payer={world.unset.pk}")
    assert _names(html, "awaiting") == ["Noclock"] and _names(html, "denied") == ["Nowindow"]
    assert _names(html, "ready") == []
    html = desk_page("?overdue=1")
    assert _names(html, "awaiting") == ["Overdue"] and 'id="desk-pended-h"' not in html
    assert "Overdue decisions only (1 of 3)" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?site=abc", "is not one of your sites"),
        ("?site=%C2%B2", "is not one of your sites"),
        ("?site=" + "9" * 30, "is not one of your sites"),
        ("?section=nope", "There is no section"),
        ("?payer=-1", "is not a payer on file"),
        ("?payer=99999999", "is not a payer on file"),
        ("?overdue=yes", "is not a choice for overdue only"),
        ("?overdue=1&section=denied", "Overdue decisions only lists requests awaiting a decision"),
    ],
)
def test_junk_filter_values_give_a_message_not_an_error(desk_page, query, message):
    html = desk_page(query)
    assert message in html
    if "overdue=1" in query:
        assert _names(html, "awaiting") == ["Overdue"]
    else:
        assert _names(html, "ready") == ["Ready"]  # and the page answers as without the filter


def test_another_sites_id_in_the_filter_is_refused(desk_page, cast):
    html = desk_page(f"?site={cast.site_b.pk}")
    assert "is not one of your sites" in html and "B0" not in html


def test_every_patient_named_is_recorded_as_viewed(desk_page, cast):
    before = set(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).values_list("object_id", flat=True))
    desk_page()
    after = set(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).values_list("object_id", flat=True))
    named = set(
        PriorAuthorization.objects.filter(case__site=cast.site_a)
        .exclude(case__patient__legal_name__startswith="Draftonly")
        .exclude(case__patient__legal_name__startswith="Covered")
        .values_list("case_id", flat=True)
    )
    named.add(Claim.objects.get(case__site=cast.site_a, case__patient__legal_name__startswith="Claimerr").case_id)
    assert after - before == named


def _desk_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(DESK).status_code == 200
    return len(ctx.captured_queries)


def test_the_desk_reads_a_constant_number_of_queries(client, cast):
    World(cast, n=1)
    one = _desk_queries(client, cast.billing)
    World(cast, n=3, start=1)
    assert _desk_queries(client, cast.billing) == one


# --- Home pages -------------------------------------------------------------------------------------
def test_billing_users_land_on_the_desk_and_coordinators_keep_their_worklist(client, cast, world):
    client.force_login(cast.billing)
    html = client.get("/").content.decode()
    assert "Billing desk" in html and 'id="desk-awaiting-h"' in html
    client.force_login(cast.coordinator)
    html = client.get("/").content.decode()
    assert "Monitoring worklist" in html and 'id="desk-awaiting-h"' not in html
    assert client.get(DESK).status_code == 403
    client.force_login(cast.manager)
    assert client.get(DESK).status_code == 200
    assert "Monitoring worklist" in client.get("/").content.decode()


def test_the_pa_transition_sets_the_due_time_with_the_same_function(cast, world):
    from billing.pa import pa_transition

    case = make_case(cast.site_a, name="Transit Child", mrn="MRN-T")
    at = datetime(2026, 12, 3, 14, 5, tzinfo=NY)
    pa = _pa(case, world.own, PAStatus.DRAFT)
    pa_transition(pa=pa, to=PAStatus.SUBMITTED, by=cast.billing, on=at.date(), at=at)
    pa.refresh_from_db()
    assert pa.decision_due_at == datetime(2026, 12, 18, 14, 5, tzinfo=NY)
    case2 = make_case(cast.site_a, name="Transit Two", mrn="MRN-T2")
    pa2 = _pa(case2, world.unset, PAStatus.DRAFT)
    pa_transition(pa=pa2, to=PAStatus.SUBMITTED, by=cast.billing, on=at.date(), at=at)
    pa2.refresh_from_db()
    assert pa2.decision_due_at is None


# --- The demo ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_demo_fills_every_section_with_an_overdue_decision_and_a_payer_without_a_clock(client):
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)
    pages = []
    for username in ("billing", "billing2"):
        client.force_login(get_user_model().objects.get(username=username))
        pages.append(client.get(DESK).content.decode())
    for section in ("ready", "awaiting", "pended", "denied", "expiring", "claims"):
        assert any(_names(html, section) for html in pages), section
    both = "".join(pages)
    assert "Overdue by" in both
    assert "No decision time set for Aetna" in both
    assert "days left" in both  # an appeal deadline


def test_the_clock_in_words_names_where_it_comes_from():
    assert pa_rules.clock_words(IMPACTED, expedited=False) == "standard: 7 calendar days, CMS-0057-F"
    assert pa_rules.clock_words(IMPACTED, expedited=True) == "expedited: 72 hours, CMS-0057-F"
    assert pa_rules.clock_words(OWN, expedited=False) == "standard: 15 calendar days, the payer’s own time"
    assert pa_rules.clock_words(UNSET, expedited=False) == ""


def test_the_case_page_says_when_the_payer_has_no_decision_time(client, cast, world):
    pa = PriorAuthorization.objects.get(case__patient__legal_name="Noclock A0")
    client.force_login(cast.billing)
    html = client.get(reverse("cases:detail", args=[pa.case_id])).content.decode()
    assert "No decision time set for No Clock Health" in html


def test_the_payer_list_shows_each_payers_decision_times(client, cast, world):
    client.force_login(cast.billing)
    html = client.get(reverse("billing:payers")).content.decode()
    assert "Standard: 7 calendar days, CMS-0057-F" in html
    assert "Standard: 15 calendar days, the payer’s own time" in html
    assert "Standard: not set" in html and "Appeal within 60 days of a denial" in html
