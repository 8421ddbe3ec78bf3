"""Tenancy and people: treatment sites, staff membership of sites, and the roles staff hold.

Every query of patient data is limited to the user's sites (accounts.access); every action is
decided by the permission table (accounts.permissions). This app imports no clinical app.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


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


class Site(models.Model):
    """A treatment center. Users see patient data only of the sites they belong to."""

    name = models.CharField(max_length=200, unique=True)
    short_code = models.CharField(max_length=12, unique=True, help_text="Short label, e.g. NCH")
    npi = models.CharField("NPI", max_length=10)
    address = models.TextField()
    place_of_service = models.CharField(max_length=2, choices=PlaceOfService.choices)
    certified_center = models.BooleanField(
        default=False, help_text="Certified SMA treatment center (payer site-of-care requirement)."
    )
    timezone = models.CharField(max_length=64, default="America/New_York")
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


class Membership(models.Model):
    """A user's membership of a site. The user's role is their auth Group."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        db_table = "cases_membership"
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="membership_unique_user_site")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site}"
