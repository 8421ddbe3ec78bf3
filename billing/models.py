"""Payers and their policies (data an admin edits), prior authorizations and PA packets."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def default_allowed_pos() -> list[str]:
    # Billing card, "Site of care": POS 21, 22, 19 allowed; 11, 49, 12 not (payer practice,
    # domain.md §11.10: a payer site-of-care rule, kept per payer).
    return ["21", "22", "19"]


class Payer(models.Model):
    """A payer and its Zolgensma policy. Defaults are the billing card's payer practice."""

    class Oba(models.TextChoices):
        YES = "yes", "Yes"
        CASE_BY_CASE = "case_by_case", "Case-by-case"
        COMMON = "common", "Common at large plans"
        NO = "no", "No"

    name = models.CharField(max_length=120, unique=True)
    pa_required = models.BooleanField("Prior authorization required", default=True)
    outcomes_based_agreement = models.CharField(max_length=20, choices=Oba.choices, default=Oba.NO)
    oba_terms = models.TextField("Outcomes-based agreement terms", blank=True)
    key_documentation = models.TextField(blank=True)
    documentation_checklist = models.JSONField(default=list, blank=True)
    allowed_pos = models.JSONField("Allowed places of service", default=default_allowed_pos)
    require_certified_center = models.BooleanField(default=True)
    titer_ceiling_denominator = models.PositiveIntegerField(
        "AAV9 titer ceiling (1:N)", default=50, validators=[MinValueValidator(1)]
    )
    titer_max_age_days = models.PositiveIntegerField(
        "Titer drawn within (days)", default=14, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    weight_max_age_days = models.PositiveIntegerField(
        "Weight measured within (days)", default=14, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    labs_max_age_days = models.PositiveIntegerField(
        "Baseline labs within (days)", default=14, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    age_wording = models.CharField(max_length=120, default="< 2 years (FDA label)")
    accepts_96413 = models.BooleanField("Accepts CPT 96413 for administration", null=True, blank=True)
    source = models.CharField(max_length=300, default="Billing card (CareCost Estimate, Q2 2026), payer table")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
