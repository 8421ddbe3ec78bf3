"""Payer policies, reference prices and support programs: admins edit, everyone reads; audited."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.models import Payer, ReferencePrice, SupportProgram
from demo import billing as demo
from demo.context import DemoContext
from tests.billing.helpers import make_ready_case

GOOD = {
    "name": "Aetna",
    "pa_required": "on",
    "outcomes_based_agreement": "case_by_case",
    "oba_terms": "",
    "key_documentation": "FDA label",
    "documentation_checklist": "genetics: Genetic report\n\n- titer: AAV9 titer\n",
    "allowed_pos": ["21", "22"],
    "require_certified_center": "on",
    "titer_ceiling_denominator": "50",
    "titer_max_age_days": "14",
    "weight_max_age_days": "30",
    "labs_max_age_days": "14",
    "age_wording": "< 2 years",
    "accepts_96413": "unknown",
    "payer_id": "60054",
    "claim_filing_indicator": "CI",
    "inpatient_drug_carve_out": "unknown",
    "ndc_unit": "UN",
    "ndc_quantity": "1",
    "drug_modifier_rule": "none",
    "drug_modifiers": "",
    "modifier_rule_source": "",
    "source": "card",
}


@pytest.fixture
def seeded(db):
    demo.seed(DemoContext(today=__import__("datetime").date(2026, 6, 1)))


def test_the_card_payers_are_seeded_with_their_policies(seeded):
    names = set(Payer.objects.values_list("name", flat=True))
    assert names == {"UnitedHealthcare (Optum)", "Aetna", "BCBS plans", "Cigna / Accredo", "State Medicaid"}
    aetna = Payer.objects.get(name="Aetna")
    assert aetna.outcomes_based_agreement == "case_by_case" and aetna.pa_required
    assert aetna.allowed_pos == ["21", "22", "19"] and aetna.titer_max_age_days == 14
    assert any("Site-of-care" in item["text"] for item in aetna.documentation_checklist)
    assert aetna.policy_reference == "Aetna CPB 0953" and "confirm with the payer" in aetna.oba_note
    assert "confirm with the payer" not in aetna.oba_terms  # the packet prints the terms, never the note
    price = ReferencePrice.objects.get()
    assert price.amount == 2125000 and str(price.effective_on) == "2019-05-24"
    assert "current WAC not verified" in price.note
    onegene = SupportProgram.objects.get(slug="onegene")
    assert onegene.phone == "1-855-441-4363" and "Benefits investigation" in onegene.services
    assert SupportProgram.objects.filter(slug="cure-sma").exists()


def test_seeding_twice_changes_nothing(seeded):
    before = (LogEntry.objects.count(), list(Payer.objects.values_list("updated_at", flat=True)))
    demo.seed(DemoContext(today=__import__("datetime").date(2026, 6, 1)))
    assert (LogEntry.objects.count(), list(Payer.objects.values_list("updated_at", flat=True))) == before
    assert Payer.objects.count() == 5


def test_an_admin_edits_a_payer_and_the_change_is_audited(client, admin_user, seeded):
    client.force_login(admin_user)
    aetna = Payer.objects.get(name="Aetna")
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), GOOD)
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    aetna.refresh_from_db()
    assert aetna.weight_max_age_days == 30 and aetna.allowed_pos == ["21", "22"]
    assert aetna.documentation_checklist == [
        {"text": "Genetic report", "evidence": "genetics"},
        {"text": "AAV9 titer", "evidence": "titer"},
    ]
    entry = LogEntry.objects.get_for_object(aetna).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == admin_user and "weight_max_age_days" in entry.changes_dict


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"allowed_pos": ["99"]}, "allowed_pos"),
        ({"allowed_pos": []}, "allowed_pos"),
        ({"allowed_pos": ["2x"]}, "allowed_pos"),
        ({"titer_max_age_days": "0"}, "titer_max_age_days"),
        ({"drug_modifiers": "KXX"}, "drug_modifiers"),
        ({"drug_modifier_rule": "jw_jz"}, "modifier_rule_source"),
        ({"ndc_quantity": "-1"}, "ndc_quantity"),
        ({"payer_id": "60-054"}, "payer_id"),
        ({"weight_max_age_days": "121"}, "weight_max_age_days"),
        ({"labs_max_age_days": "two weeks"}, "labs_max_age_days"),
        ({"titer_ceiling_denominator": "0"}, "titer_ceiling_denominator"),
        ({"documentation_checklist": "x" * 201}, "documentation_checklist"),
        ({"documentation_checklist": "Genetic report"}, "documentation_checklist"),  # what proves it?
        ({"documentation_checklist": "genes: Genetic report"}, "documentation_checklist"),  # unknown proof
        ({"documentation_checklist": "\n".join(f"titer: item {n}" for n in range(31))}, "documentation_checklist"),
        ({"name": ""}, "name"),
        ({"outcomes_based_agreement": "maybe"}, "outcomes_based_agreement"),
        ({"milestone_months": "6, twelve"}, "milestone_months"),
        ({"milestone_months": "0, 12"}, "milestone_months"),
        ({"milestone_months": "6, 61"}, "milestone_months"),
        ({"milestone_months": "6, 6, 12"}, "milestone_months"),
        ({"milestone_months": "-6"}, "milestone_months"),
        ({"milestone_months": "6.5"}, "milestone_months"),
        ({"milestone_months": "²"}, "milestone_months"),
        ({"milestone_months": "١٢"}, "milestone_months"),  # Arabic-Indic digits
        ({"milestone_months": "9" * 5000}, "milestone_months"),
    ],
)
def test_bad_payer_data_is_refused_next_to_the_field_and_nothing_changes(client, admin_user, seeded, change, field):
    client.force_login(admin_user)
    aetna = Payer.objects.get(name="Aetna")
    before = Payer.objects.filter(pk=aetna.pk).values().get()
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), {**GOOD, **change})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Payer.objects.filter(pk=aetna.pk).values().get() == before


def test_a_payers_milestone_months_are_kept_in_order_and_shape_new_schedules(client, admin_user, seeded, cast):
    from datetime import date

    from monitoring.models import Milestone
    from monitoring.workflows import schedule_create

    client.force_login(admin_user)
    aetna = Payer.objects.get(name="Aetna")
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), {**GOOD, "milestone_months": "24; 6, 12 "})
    assert response.status_code == 302
    aetna.refresh_from_db()
    assert aetna.milestone_months == [6, 12, 24]
    assert "milestones: 6, 12, 24 months" in client.get(reverse("billing:payers")).content.decode()
    assert (
        client.get(reverse("billing:payer_edit", args=[aetna.pk])).context["form"].initial["milestone_months"]
        == "6, 12, 24"
    )
    case = cast.case_a
    case.payer = aetna
    case.save()
    schedule_create(case=case, infused_on=date(2026, 6, 1), today=date(2026, 6, 1))
    assert list(Milestone.objects.filter(case=case).values_list("month", flat=True).order_by("month")) == [6, 12, 24]
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), {**GOOD, "milestone_months": ""})
    aetna.refresh_from_db()
    assert aetna.milestone_months == []  # empty: the card's months again


def test_a_duplicate_payer_name_is_refused(client, admin_user, seeded):
    client.force_login(admin_user)
    response = client.post(reverse("billing:payer_new"), {**GOOD, "name": "State Medicaid"})
    assert "name" in response.context["form"].errors


@pytest.mark.parametrize("role", ["coordinator", "physician", "billing", "manager"])
def test_other_roles_read_payers_and_reference_data_but_cannot_edit(client, cast, seeded, role):
    client.force_login(getattr(cast, role))
    page = client.get(reverse("billing:payers")).content.decode()
    assert "State Medicaid" in page and "Add a payer" not in page
    assert "current WAC not verified" in client.get(reverse("billing:reference")).content.decode()
    aetna = Payer.objects.get(name="Aetna")
    assert client.get(reverse("billing:payer_edit", args=[aetna.pk])).status_code == 403
    assert client.post(reverse("billing:payer_edit", args=[aetna.pk]), GOOD).status_code == 403
    assert client.post(reverse("billing:price_new"), {}).status_code == 403


def test_an_admin_adds_a_price_and_the_case_shows_the_newest_effective_one(client, admin_user, seeded, cast, today):
    ready_case = make_ready_case(cast.site_a, today=today, payer=Payer.objects.get(name="Aetna"), documents=False)
    client.force_login(admin_user)
    bad = client.post(
        reverse("billing:price_new"), {"code": "J3399", "kind": "WAC", "amount": "-1", "effective_on": "x"}
    )
    assert {"amount", "effective_on"} <= set(bad.context["form"].errors)
    dup = client.post(
        reverse("billing:price_new"), {"code": "J3399", "kind": "WAC", "amount": "1", "effective_on": "2019-05-24"}
    )
    assert dup.status_code == 200 and dup.context["form"].errors
    ok = client.post(reverse("billing:price_new"), {"code": "J3399", "kind": "WAC", "amount": "2300000",
                                                   "effective_on": "2025-01-01", "note": "checked"})  # fmt: skip
    assert ok.status_code == 302
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "$2,300,000 WAC" in page and "Effective 1 Jan 2025" in page


def test_an_admin_edits_a_support_program(client, admin_user, seeded):
    client.force_login(admin_user)
    program = SupportProgram.objects.get(slug="cure-sma")
    response = client.post(reverse("billing:program_edit", args=[program.pk]),
                           {"name": "Cure SMA", "services": "Directory\nFamily support", "order": "2"})  # fmt: skip
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.services == ["Directory", "Family support"]
    bad = client.post(reverse("billing:program_edit", args=[program.pk]), {"name": "", "order": "-1"})
    assert {"name", "order"} <= set(bad.context["form"].errors)
