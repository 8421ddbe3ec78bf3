"""Tenancy and people: treatment sites, staff membership of sites, and the roles staff hold.

Every query of patient data is limited to the user's sites (accounts.access); every action is
decided by the permission table (accounts.permissions). This app imports no clinical app.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from common.dates import validate_time_zone
from common.identifiers import validate_tin, validate_us_phone
from common.npi import validate_npi


def _as_validation_error(check, value) -> None:
    """Run a plain ValueError check (common/) as a Django field validator."""
    try:
        check(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def npi_validator(value: str) -> None:
    _as_validation_error(validate_npi, value)


def tin_validator(value: str) -> None:
    _as_validation_error(validate_tin, value)


def phone_validator(value: str) -> None:
    _as_validation_error(validate_us_phone, value)


class Role(models.TextChoices):
    """A staff member's role. Roles are auth Groups of these names (created by a data migration)."""

    COORDINATOR = "coordinator", "Coordinator"
    PHYSICIAN = "physician", "Physician"
    BILLING = "billing", "Billing"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class PlaceOfService(models.TextChoices):
    """CMS place-of-service codes relevant to Zolgensma (docs/domain.md §6c)."""

    INPATIENT = "21", "21 Inpatient Hospital"
    OUTPATIENT_ON_CAMPUS = "22", "22 On Campus-Outpatient Hospital"
    OUTPATIENT_OFF_CAMPUS = "19", "19 Off Campus-Outpatient Hospital"
    OFFICE = "11", "11 Office"
    HOME = "12", "12 Home"
    INDEPENDENT_CLINIC = "49", "49 Independent Clinic"


class Specialty(models.TextChoices):
    """A prescriber's specialty. Payers ask for an SMA specialist (docs/domain.md §13c)."""

    NEUROLOGY = "neurology", "Neurology"
    CHILD_NEUROLOGY = "child_neurology", "Child neurology"
    NEUROMUSCULAR = "neuromuscular", "Neuromuscular medicine"
    PEDIATRICS = "pediatrics", "Pediatrics"
    MEDICAL_GENETICS = "medical_genetics", "Medical genetics"
    OTHER = "other", "Other"


# Specialties payers accept as "a neurologist or neuromuscular (SMA) specialist" (Aetna CPB 0953;
# eviCore; docs/domain.md §13c).
SMA_SPECIALTIES = frozenset({Specialty.NEUROLOGY, Specialty.CHILD_NEUROLOGY, Specialty.NEUROMUSCULAR})


class Site(models.Model):
    """A treatment center. Users see patient data only of the sites they belong to.

    Its NPI is the facility's (an organization, Type 2); a prescriber's own NPI (Type 1) is
    never the same number. TIN, phone and fax are printed on the PA packet for the payer."""

    name = models.CharField(max_length=200, unique=True)
    short_code = models.CharField(max_length=12, unique=True, help_text="Short label, e.g. NCH")
    npi = models.CharField("Facility NPI (Type 2)", max_length=10, validators=[npi_validator])
    tin = models.CharField(
        "Tax id (TIN)", max_length=10, blank=True, validators=[tin_validator], help_text="EIN, e.g. 04-1234567."
    )
    phone = models.CharField("Office phone", max_length=20, blank=True, validators=[phone_validator])
    fax = models.CharField("Office fax", max_length=20, blank=True, validators=[phone_validator])
    address = models.TextField()
    place_of_service = models.CharField(max_length=2, choices=PlaceOfService.choices)
    certified_center = models.BooleanField(
        default=False, help_text="Certified SMA treatment center (payer site-of-care requirement)."
    )
    timezone = models.CharField(
        "Time zone",
        max_length=64,
        default="America/New_York",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. America/Chicago: due dates and times on screen follow it.",
    )
    # A result flag a physician has not acknowledged is escalated to the site's other physicians
    # and its manager after this many hours (issue 15 item 1; product policy [D], editable here).
    urgent_flag_escalate_hours = models.PositiveSmallIntegerField(
        "Escalate an unacknowledged urgent result after (hours)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )
    abnormal_flag_escalate_hours = models.PositiveSmallIntegerField(
        "Escalate an unacknowledged abnormal result after (hours)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    escalation_repeat_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="While a draw stays overdue and unacknowledged, repeat its escalation every this many days.",
    )

    class Meta:
        db_table = "cases_site"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Store TIN, phone and fax in one written form (NN-NNNNNNN, (NNN) NNN-NNNN)."""
        for name, check in (("tin", validate_tin), ("phone", validate_us_phone), ("fax", validate_us_phone)):
            value = getattr(self, name)
            if value:
                with contextlib.suppress(ValueError):  # the field validator reports it
                    setattr(self, name, check(value))


class PrescriberProfile(models.Model):
    """A physician's own identifiers, bound to their signature on a letter of medical necessity.

    The individual NPI (Type 1) is never a treatment site's facility NPI (Type 2)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prescriber_profile")
    npi = models.CharField("Individual NPI (Type 1)", max_length=10, unique=True, validators=[npi_validator])
    specialty = models.CharField(max_length=20, choices=Specialty.choices)
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO")

    def __str__(self) -> str:
        return f"Prescriber profile {self.pk}"

    def clean(self) -> None:
        if self.npi and Site.objects.filter(npi=self.npi.strip()).exists():
            raise ValidationError(
                {
                    "npi": "This is a treatment site's facility NPI (Type 2); enter the physician's individual NPI (Type 1)."
                }
            )


class Membership(models.Model):
    """A user's membership of a site. The user's role is their auth Group."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        db_table = "cases_membership"
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="membership_unique_user_site")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site}"
