"""HL7 v2 ORU^R01 into the results inbox, in process: matching, recording through the typed
results' path, review, duplicates, corrections, and the refusals with their reasons."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from monitoring.inbox.models import InboxMessage, Laboratory
from monitoring.inbox.workflows import process, receive_hl7, receive_hl7_batch
from monitoring.models import Draw, Flag, Result
from tests.inbox.helpers import LIVER, collected, infused_case, oru
from tests.monitoring.helpers import draw


@pytest.fixture
def infused(cast):
    infused_case(cast.case_a)
    return cast.case_a


def _send(text: str, **kwargs):
    return receive_hl7(text.encode("utf-8"), **kwargs)


def test_a_liver_panel_is_recorded_on_its_draw_and_flagged_like_typed_results(cast, infused):
    rows = [("1742-6", "ALT", "130", "U/L", "10-60", "H", "F"), *LIVER[1:]]
    outcome = _send(oru(results=rows))
    assert outcome.ack == "AA", outcome.reason
    message = outcome.message
    assert message.status == "processed" and message.case == infused
    liver = draw(infused, "liver", 7)
    assert liver.state == "done"
    alt = Result.objects.get(draw=liver, analyte="alt")
    assert (alt.value, alt.uln, alt.uln_is_fallback) == (Decimal("130.000"), Decimal("60.000"), False)
    assert alt.collected_at == collected()
    assert Flag.objects.filter(case=infused, code="alt_2x_uln", resolved_at__isnull=True).exists()
    assert {line["draw"] for line in message.details["lines"]} == {liver.pk}
    assert message.details["lines"][0]["lab_flag"] == "H"  # the lab's own flag, kept beside ours


def test_one_message_with_platelets_hemoglobin_and_troponin_fills_two_draws(cast, infused):
    rows = [
        ("777-3", "Platelets", "250", "10*3/uL", "150-450", "", "F"),
        ("718-7", "Hemoglobin", "118", "g/L", "100-140", "", "F"),
        ("89579-7", "hs-TnI", "15", "ng/L", "<40", "", "F"),
    ]
    outcome = _send(oru(results=rows))
    assert outcome.ack == "AA", outcome.reason
    platelets = Result.objects.get(draw=draw(infused, "platelets", 7), analyte="platelets")
    assert platelets.unit == "10^3/µL" and platelets.value_canonical == Decimal(250)
    assert Result.objects.get(draw=draw(infused, "platelets", 7), analyte="hemoglobin").value_canonical == Decimal(
        "11.8"
    )
    assert Result.objects.get(draw=draw(infused, "troponin", 7), analyte="troponin_i").value == Decimal(15)


def test_the_same_message_twice_creates_nothing_new(cast, infused):
    first = _send(oru())
    counts = (InboxMessage.objects.count(), Result.objects.count(), Flag.objects.count())
    again = _send(oru())
    assert again.duplicate and again.ack == "AA" and again.message.pk == first.message.pk
    assert (InboxMessage.objects.count(), Result.objects.count(), Flag.objects.count()) == counts


def test_an_unknown_patient_is_held_for_review_never_guessed(cast, infused):
    outcome = _send(oru(mrn="NOBODY-1"))
    assert outcome.ack == "AE" and "No patient with this MRN" in outcome.reason
    assert outcome.message.status == "needs_review" and outcome.message.case is None
    assert not Result.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"dob": "20260602"}, "birth date does not match"), ({"family": "Otherchild"}, "family name does not match")],
)
def test_a_birth_date_or_name_that_disagrees_with_the_mrn_goes_to_review(cast, infused, change, reason):
    outcome = _send(oru(**change))
    assert outcome.message.status == "needs_review" and reason in outcome.message.reason
    assert not Result.objects.exists()


def test_a_patient_of_another_site_is_not_found_at_this_one(cast, infused):
    outcome = _send(oru(facility="B"))  # addressed to site B, where this MRN does not exist
    assert outcome.message.site == cast.site_b and outcome.message.status == "needs_review"
    assert not Result.objects.exists()


def test_a_unit_that_cannot_be_converted_fails_the_whole_message_with_the_reason(cast, infused):
    rows = [*LIVER[:2], ("1975-2", "Bilirubin", "9", "mmol/L", "", "", "F"), LIVER[3]]
    outcome = _send(oru(results=rows))
    assert outcome.ack == "AE"
    assert "Total bilirubin in 'mmol/L' cannot be converted" in outcome.reason
    assert outcome.message.status == "failed"
    assert not Result.objects.exists()  # ALT and AST were not recorded either: all or nothing


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"kind": "ADT^A01"}, "Message type ADT^A01 is not accepted"),
        ({"version": "2.1"}, "HL7 version 2.1 is not supported"),
        ({"control": ""}, "MSH-10"),
    ],
)
def test_what_is_not_an_oru_r01_we_read_is_rejected_and_kept(cast, infused, kwargs, expected):
    outcome = _send(oru(**kwargs))
    assert outcome.ack == "AR" and expected in outcome.reason
    assert outcome.message.status == "failed" and outcome.message.raw.startswith("MSH")


@pytest.mark.parametrize("version", ["2.3", "2.4", "2.5", "2.6", "2.7"])
def test_versions_2_3_to_2_7_are_read_alike(cast, infused, version):
    assert _send(oru(version=version)).ack == "AA"


def test_an_unknown_receiving_facility_is_rejected_unless_the_listener_names_a_site(cast, infused):
    refused = _send(oru(facility="ZZZ", control="C-Z1"))
    assert refused.ack == "AR" and refused.message.site is None and "Unknown receiving facility" in refused.reason
    accepted = _send(oru(facility="ZZZ", control="C-Z2"), default_site=cast.site_a)
    assert accepted.ack == "AA"


def test_latin1_is_read_when_msh18_declares_it_and_refused_when_it_does_not(cast, infused):
    text = oru(family="Markerchild", results=LIVER).replace("Zyxwv", "Zyxwé")
    assert receive_hl7(text.replace("2.5.1", "2.5.1||||||8859/1").encode("latin-1")).ack == "AA"
    refused = receive_hl7(oru(control="C-2").replace("Zyxwv", "Zyxwé").encode("latin-1"))
    assert refused.ack == "AR" and "not valid UTF-8" in refused.reason


def test_a_corrected_result_supersedes_the_value_and_a_silent_change_goes_to_review(cast, infused):
    _send(oru(control="C-1"))
    changed = [("1742-6", "ALT", "52", "U/L", "10-60", "", "F")]
    silent = _send(oru(control="C-2", results=changed))
    assert silent.message.status == "needs_review" and "not marked corrected" in silent.message.reason
    corrected = [("1742-6", "ALT", "52", "U/L", "10-60", "", "C")]
    assert _send(oru(control="C-3", results=corrected)).ack == "AA"
    alt = Result.objects.get(draw=draw(infused, "liver", 7), analyte="alt")
    assert alt.value == Decimal(52)
    assert LogEntry.objects.get_for_object(alt).count() >= 2  # the earlier value stays in the audit trail


def test_preliminary_results_wait_for_the_final_report(cast, infused):
    preliminary = [(c, n, v, u, r, f, "P") for c, n, v, u, r, f, _ in LIVER]
    held = _send(oru(control="P-1", results=preliminary))
    assert held.message.status == "matched" and not Result.objects.exists()
    final = _send(oru(control="F-1"))
    assert final.message.status == "processed" and Result.objects.count() == 4
    held.message.refresh_from_db()
    assert held.message.status == "processed" and f"message {final.message.pk}" in held.message.reason


def test_cancelled_results_are_shown_as_such_and_not_recorded(cast, infused):
    rows = [*LIVER[:3], ("5902-2", "PT", "", "s", "", "", "X")]
    outcome = _send(oru(results=rows))
    assert outcome.ack == "AA"
    assert "PT" not in set(Result.objects.values_list("analyte", flat=True))
    assert any("cancelled" in note for note in outcome.message.details["notes"])


def test_a_sample_from_before_the_infusion_goes_to_review(cast, infused):
    # After the infusion, outside every window: an unscheduled result (test_unscheduled_and_move).
    outcome = _send(oru(when=collected(days_ago=60)))
    assert outcome.message.status == "needs_review"
    assert "no scheduled draw's window covers" in outcome.message.reason
    assert "before the infusion" in outcome.message.reason


def test_a_collection_time_in_the_future_fails(cast, infused):
    outcome = _send(oru(when=collected(days_ago=-3)))
    assert outcome.message.status == "failed" and "future" in outcome.message.reason


def test_local_codes_map_through_the_laboratory_and_a_fixed_mapping_is_processed_again(cast, infused):
    lab = Laboratory.objects.create(site=cast.site_a, name="Ref Lab", hl7_sending_facility="REFLAB")
    rows = [("ALT01", "ALT", "45", "U/L", "10-60", "", "F")]
    text = oru(results=[(c, n, v, u, r, f, s) for c, n, v, u, r, f, s in rows]).replace("^LN|", "^L|")
    outcome = _send(text)
    assert outcome.message.status == "failed" and "map the laboratory's local codes" in outcome.message.reason
    lab.local_codes = {"ALT01": "1742-6"}
    lab.save()
    again = process(outcome.message)
    assert again.message.status == "processed"
    assert Result.objects.get(analyte="alt").value == Decimal(45)


def test_an_urgent_result_raises_the_urgent_flag_as_a_typed_one_does(cast, infused):
    rows = [("1742-6", "ALT", "1300", "U/L", "10-60", "HH", "F"), *LIVER[1:]]
    _send(oru(results=rows))
    assert Flag.objects.filter(case=infused, level="urgent", resolved_at__isnull=True).exists()


def test_queries_per_message_do_not_grow_with_the_number_of_draws(cast, infused, django_assert_max_num_queries):
    _send(oru(control="WARM"))  # the first message stores the protocol and site lookups
    Draw.objects.filter(case=infused).count()
    with django_assert_max_num_queries(80):
        _send(oru(control="C-Q", results=[("777-3", "Platelets", "250", "10*9/L", "150-450", "", "F")]))


def test_one_batch_with_the_same_patient_three_times_records_in_order(cast, infused):
    """receive_hl7_batch (the listener's frames that arrived together): a preliminary report, its
    final report with an ALT at 2.2×ULN and then the laboratory's correction of that ALT, all in
    one batch, end as they would one by one: the corrected value, its change audited, the
    flag of the first value resolved, the preliminary message superseded."""
    preliminary = [(c, n, v, u, r, f, "P") for c, n, v, u, r, f, _ in LIVER]
    high = [("1742-6", "ALT", "130", "U/L", "10-60", "H", "F"), *LIVER[1:]]
    corrected = [("1742-6", "ALT", "52", "U/L", "10-60", "", "C")]
    texts = [
        oru(control="B-P", results=preliminary),
        oru(control="B-F", results=high),
        oru(control="B-C", results=corrected),
    ]
    outcomes = receive_hl7_batch([t.encode() for t in texts])
    assert [o.ack for o in outcomes] == ["AA", "AA", "AA"], [o.reason for o in outcomes]
    stored = {m.control_id: m for m in InboxMessage.objects.filter(control_id__startswith="B-")}
    assert stored["B-P"].status == "processed" and "Superseded" in stored["B-P"].reason
    assert stored["B-F"].status == stored["B-C"].status == "processed"
    alt = Result.objects.get(draw=draw(infused, "liver", 7), analyte="alt")
    assert alt.value == Decimal(52) and Result.objects.filter(draw__case=infused).count() == 4
    assert LogEntry.objects.get_for_object(alt).count() == 2  # created at 130, changed to 52
    flag = Flag.objects.get(case=infused, code="alt_2x_uln")
    assert flag.resolved_at is not None  # the corrected ALT is normal
    done = draw(infused, "liver", 7)
    assert done.state == "done" and LogEntry.objects.get_for_object(done).exists()
