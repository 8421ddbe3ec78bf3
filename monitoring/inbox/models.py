"""The results inbox: every laboratory message that arrives (HL7 v2 over MLLP or a file, a FHIR
R4 Bundle, a CSV export), stored raw with its outcome; the laboratories that send them, with
their local codes and CSV column mapping; and the per-site tokens of the FHIR endpoint.

Imported by monitoring/models.py so the models belong to the monitoring app. The raw payload
holds patient data: it is shown only to staff of the message's site (monitoring.inbox.views),
never logged, and left out of the audit log's change records (monitoring.signals).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["InboxMessage", "InboxSource", "InboxStatus", "InboxToken", "Laboratory"]


class InboxSource(models.TextChoices):
    HL7 = "hl7", "HL7 v2 (ORU^R01)"
    FHIR = "fhir", "FHIR R4 Bundle"
    CSV = "csv", "CSV (lab portal)"


class InboxStatus(models.TextChoices):
    """received → matched | needs_review | failed → processed (monitoring.inbox.workflows)."""

    RECEIVED = "received", "Received"
    MATCHED = "matched", "Matched (waiting)"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FAILED = "failed", "Failed"
    PROCESSED = "processed", "Processed"


OPEN_INBOX_STATES = (InboxStatus.RECEIVED, InboxStatus.MATCHED, InboxStatus.NEEDS_REVIEW, InboxStatus.FAILED)

# The CSV columns a laboratory's mapping names (monitoring.inbox.csvfile): field -> meaning.
CSV_FIELDS = {
    "mrn": "Patient MRN at the receiving site (required)",
    "birth_date": "Patient birth date (required)",
    "family_name": "Patient family name (checked when present)",
    "collected_at": "Collection date and time (required)",
    "code": "Test code: LOINC, or the laboratory's local code (required)",
    "value": "Result value (required)",
    "unit": "Unit (UCUM or as printed)",
    "reference_range": "Reference range, e.g. 10-40",
    "flag": "The laboratory's abnormal flag (H, L, A …)",
    "status": "Result status (F final, C corrected, P preliminary, X cancelled)",
    "accession": "Accession / order number (groups rows into one report)",
}
CSV_REQUIRED = ("mrn", "birth_date", "collected_at", "code", "value")


class Laboratory(models.Model):
    """A laboratory that sends results to a site: how its messages are recognised, its local
    test codes (mapped to LOINC or an analyte key) and, for CSV exports, its column mapping."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="laboratories")
    name = models.CharField(max_length=120)
    hl7_sending_facility = models.CharField(
        "HL7 sending facility (MSH-4)", max_length=120, blank=True, help_text="As the lab writes it in MSH-4."
    )
    local_codes = models.JSONField(
        default=dict,
        blank=True,
        help_text='The lab\'s own test codes: {"ALT01": "1742-6"} (a LOINC code) or {"ALT01": "alt"} (an analyte).',
    )
    csv_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='CSV column per field: {"mrn": "Patient ID", "birth_date": "DOB", "collected_at": "Collected", '
        '"code": "Test", "value": "Result", "unit": "Units", …}',
    )
    csv_datetime_format = models.CharField(
        max_length=40, default="%Y-%m-%d %H:%M", help_text="strftime format of the collection column"
    )
    csv_date_format = models.CharField(max_length=40, default="%Y-%m-%d", help_text="strftime format of birth dates")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "laboratories"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="laboratory_unique_site_name")]

    def __str__(self) -> str:
        return self.name


class InboxToken(models.Model):
    """A bearer token for the FHIR endpoint, valid for one site. Only its SHA-256 is stored;
    the token itself is shown once, when an administrator issues it (monitoring.inbox.admin)."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="inbox_tokens")
    label = models.CharField(max_length=120, help_text="Who uses it, e.g. 'Reference lab FHIR feed'")
    prefix = models.CharField(max_length=12, editable=False, help_text="The token's first characters")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InboxMessage(models.Model):
    """One incoming laboratory message (an HL7 message, a FHIR Bundle, or one report's rows of
    a CSV file), its raw payload and what became of it."""

    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, related_name="inbox_messages", null=True, blank=True
    )
    source = models.CharField(max_length=8, choices=InboxSource.choices)
    laboratory = models.ForeignKey(Laboratory, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sender = models.CharField(max_length=200, blank=True, help_text="Sending application/facility or token label")
    control_id = models.CharField(max_length=200, blank=True, help_text="MSH-10, Bundle id, or the CSV rows' hash")
    raw = models.TextField()
    raw_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=14, choices=InboxStatus.choices, default=InboxStatus.RECEIVED)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    collected_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # The same message twice creates nothing new (issue 19, "nothing doubled").
            models.UniqueConstraint(
                fields=["site", "source", "sender", "control_id"],
                condition=~Q(control_id=""),
                name="inbox_unique_control_id",
            )
        ]
        indexes = [models.Index(fields=["site", "status", "received_at"], name="inbox_site_status_idx")]

    def __str__(self) -> str:
        return f"Inbox message {self.pk}"  # never PHI in str()
