"""Shared material for the attack suite: the demo world, XSS payloads, free-text fields, URL ids."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.db.models import CharField, F, TextField, Value
from django.db.models.functions import Cast, Concat

# Short enough for every free-text column; each would run script if a page emitted it raw.
PAYLOADS = [
    "<script>alert('gg1')</script>",
    '"><img src=x onerror=alert(2)>',
    "<svg onload=alert(3)>",
]

# Every free-text field a person types into, per model (a test checks the list is complete).
FREE_TEXT = {
    "cases.Patient": [
        "legal_name",
        "guardian_name",
        "guardian_phone",
        "preferred_language",
        "mrn",
        "address_line1",
        "address_line2",
        "city",
    ],
    "cases.Case": ["plan_name", "member_id", "ordering_physician_name", "group_number", "subscriber_name"],
    "cases.StageEvent": ["note"],
    "cases.TiterResult": ["lab", "method", "void_reason"],
    "cases.Document": ["original_name", "void_reason"],
    "cases.WeightMeasurement": ["void_reason"],
    "cases.MotorAssessment": ["void_reason"],
    "cases.BaselineLab": ["void_reason"],
    "cases.GateOverride": ["reason"],
    "cases.InfusionRecord": ["syringe_pump", "catheter", "adverse_events", "administered_by"],
    "cases.InfusionVial": ["lot_number"],
    "cases.InfusionAmendment": ["reason", "old_value", "new_value"],
    "cases.InfusionPause": ["reason"],
    "billing.MedicalNecessityLetter": ["body"],
    "billing.Payer": ["oba_terms", "oba_note", "policy_reference", "key_documentation", "age_wording"],
    "billing.PriorAuthorization": ["reference_number", "auth_number", "notes"],
    "billing.PAEvent": ["note"],
    "billing.OneGeneEnrollment": ["reference", "notes"],
    "billing.SupportProgram": ["notes"],
    "monitoring.ProtocolVersion": ["change_note"],
    "monitoring.Draw": ["missed_reason"],
    "monitoring.SteroidDecision": ["reason", "correction_reason"],
    "monitoring.Flag": ["ack_note", "ack_plan"],
    "cases.ClinicalStatusCheck": ["notes", "void_reason"],
    "monitoring.Assessment": ["notes", "void_reason"],
    "monitoring.Acknowledgement": ["reason"],
    "monitoring.ResultAcknowledgement": ["note", "plan", "void_reason"],
    "cases.ClinicalOverride": ["explanation", "void_reason"],
}
# Columns that are codes, units, hashes or computed text, not typed by a person.
NOT_FREE_TEXT = {
    "cases.Site": "*",
    "billing.ReferencePrice": "*",
    "billing.PAPacket": "*",
    "billing.PacketJob": "*",  # the worker writes its message; nobody types into a job
    "billing.Claim": "*",  # built by the app from the signed record; nobody types into a version
    "monitoring.Flag": ["code", "analyte", "message", "source"],
    "monitoring.Result": "*",
    "cases.BaselineLab": "*",
    "cases.Patient": ["guardian_email", "state", "zip_code"],
    "cases.Case": ["primary_diagnosis", "secondary_diagnosis", "ordering_physician_npi"],
    "cases.TiterResult": ["result_text"],
    "cases.Document": ["content_type", "sha256"],
    "cases.GateOverride": ["gate_id", "gate_title", "detail_at_override", "by_name"],
    # The listed reason's code and words, and what was overridden, are written by the app.
    "cases.ClinicalOverride": ["reason_code", "reason_label", "subject", "by_name"],
    "cases.InfusionRecord": ["kit_ndc", "signed_name"],
    "cases.InfusionAmendment": ["field", "field_label", "by_name"],
    "billing.Payer": ["name", "source", "payer_id", "modifier_rule_source", "pas_endpoint", "pas_token_env"],
    # Electronic PA requests and answers: machine-built JSON and the app's messages (shown escaped).
    "billing.PASRequest": "*",
    "billing.PASAttempt": "*",
    "billing.SupportProgram": ["slug", "name", "phone", "web", "source"],
    "monitoring.ProtocolVersion": ["version", "source"],
    "monitoring.Draw": ["kind", "reason"],
    "monitoring.ReminderRoute": ["role"],
    "monitoring.Reminder": ["target_key", "last_error", "cancelled_reason"],
    "monitoring.ReminderAttempt": ["error"],
    "monitoring.Notification": ["title", "body", "url"],  # written by the app, from escaped parts
    # Identifiers and codes an administrator keys (validated formats), and hashes.
    "billing.SiteBilling": "*",
    "billing.ChargeItem": ["revenue_code"],
    "billing.MedicalNecessityLetter": [
        "facts_sha256",
        "fingerprint",
        "signer_credentials",
        "signer_name",
        "signer_npi",
        "signer_specialty",
    ],
    # Laboratory set-up and tokens (admin reference data) and raw lab messages (machine input,
    # stored and shown escaped; never typed by a person).
    "monitoring.Laboratory": "*",
    "monitoring.InboxToken": "*",
    "monitoring.InboxMessage": "*",
}


def text_columns(model) -> list[str]:
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, CharField | TextField)
        and f.concrete
        and not f.choices
        and f.get_internal_type() in ("CharField", "TextField")
    ]


def seed_world():
    call_command("seed_demo", verbosity=0)


def inject(payload: str) -> None:
    """Write ``payload`` into every free-text field of every row (unique ones get the pk)."""
    for label, fields in FREE_TEXT.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for name in fields:
            field = model._meta.get_field(name)
            if name == "mrn":
                value = Concat(Value(payload[:30]), Cast(F("pk"), output_field=CharField()))
            else:
                value = Value(payload[: field.max_length] if field.max_length else payload)
            model.objects.update(**{name: value})


def url_ids() -> dict[str, int]:
    """One object id per URL parameter name, from the richest demo case."""
    from billing.models import PacketJob, PAPacket, Payer, ReferencePrice, SupportProgram
    from cases.models import Case, Document
    from monitoring.models import Draw, Milestone

    case = Case.objects.filter(infusion_record__isnull=False, draws__state="done").order_by("pk").first()
    ids = {"pk": case.pk, "case_pk": case.pk}
    ids["draw_pk"] = Draw.objects.filter(case=case, state="done").first().pk
    ids["milestone_pk"] = Milestone.objects.filter(case=case).first().pk
    doc = Document.objects.order_by("pk").first()
    ids["document_pk"] = doc.pk if doc else 1
    packet = PAPacket.objects.order_by("pk").first()
    ids["packet_pk"] = packet.pk if packet else 1
    job = PacketJob.objects.order_by("pk").first()
    ids["job_pk"] = job.pk if job else 1
    ids["payer_pk"] = Payer.objects.order_by("pk").first().pk
    ids["price_pk"] = ReferencePrice.objects.order_by("pk").first().pk
    ids["program_pk"] = SupportProgram.objects.order_by("pk").first().pk
    try:
        from monitoring.models import Notification, Reminder

        reminder = Reminder.objects.order_by("pk").first()
        ids["reminder_pk"] = reminder.pk if reminder else 1
        note = Notification.objects.order_by("pk").first()
        ids["notification_pk"] = note.pk if note else 1
    except ImportError:
        pass
    return ids
