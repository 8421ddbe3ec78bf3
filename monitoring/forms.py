"""Monitoring forms: they validate and convert input; the workflows decide outcomes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from cases.analytes import ANALYTES
from common.wording import day_text
from monitoring import milestones as milestone_rules
from monitoring.models import ProtocolVersion, SteroidDecision
from monitoring.workflows import ResultInput

# Analytes with no published infant fallback ULN (flags.FALLBACK_SOURCE): the lab's ULN is
# needed to judge them. Platelets, hemoglobin and troponin-I are judged against the baseline.
ULN_REQUIRED = ("ast", "tbili", "pt")
ULN_USED = ("alt", "ast", "tbili", "pt", "inr")
VALUE_MAX = Decimal("999999")


class ResultsForm(forms.Form):
    """One row per analyte of the draw (value, unit, lab's ULN) and the collection time.

    ``infused_on`` and ``now`` bound the collection time: not before the infusion, not in
    the future. The form is bound in the site's time zone (the view activates it).
    """

    collected_at = forms.DateTimeField(
        label="Collected (date and time)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, analytes: list[str], infused_on: date, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.analytes = analytes
        self.infused_on = infused_on
        self.now = now
        for analyte in analytes:
            info = ANALYTES[analyte]
            self.fields[f"{analyte}_value"] = forms.DecimalField(
                label=f"{info.label} value", min_value=0, max_value=VALUE_MAX, decimal_places=3, max_digits=9
            )
            self.fields[f"{analyte}_unit"] = forms.ChoiceField(
                label=f"{info.label} unit",
                choices=[(u, u) for u in info.units_offered],
                initial=info.canonical_unit,
            )
            if analyte in ULN_USED:
                self.fields[f"{analyte}_uln"] = forms.DecimalField(
                    label=f"{info.label} lab ULN",
                    required=False,
                    min_value=Decimal("0.001"),
                    max_value=VALUE_MAX,
                    decimal_places=3,
                    max_digits=9,
                    help_text=(
                        "From the lab report. Left empty, the published upper limit for the child's age and sex is used."
                        if analyte == "alt"
                        else "From the lab report"
                    ),
                )

    def rows(self):
        """(label, value field, unit field, ULN field or None) per analyte, for the template."""
        for analyte in self.analytes:
            uln = self[f"{analyte}_uln"] if f"{analyte}_uln" in self.fields else None
            yield ANALYTES[analyte].label, self[f"{analyte}_value"], self[f"{analyte}_unit"], uln

    def clean_collected_at(self) -> datetime:
        collected = self.cleaned_data["collected_at"]
        if timezone.localtime(collected).date() < self.infused_on:
            raise forms.ValidationError(f"Collection cannot be before the infusion on {day_text(self.infused_on)}.")
        if collected > self.now:
            raise forms.ValidationError("Collection time is in the future.")
        return collected

    def clean(self):
        cleaned = super().clean()
        for analyte in self.analytes:
            if (
                analyte in ULN_REQUIRED
                and cleaned.get(f"{analyte}_uln") is None
                and f"{analyte}_uln" not in self.errors
            ):
                label = ANALYTES[analyte].label
                self.add_error(
                    f"{analyte}_uln", f"Enter the lab's ULN: there is no published infant fallback for {label}."
                )
        return cleaned

    def results(self) -> list[ResultInput]:
        data = self.cleaned_data
        return [
            ResultInput(analyte, data[f"{analyte}_value"], data[f"{analyte}_unit"], data.get(f"{analyte}_uln"))
            for analyte in self.analytes
        ]


class MissForm(forms.Form):
    reason = forms.CharField(
        label="Why was the draw missed?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. family unreachable, child admitted elsewhere, physician ended monitoring",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> carries the token and the button


class ProtocolVersionForm(forms.Form):
    """A new protocol version: same label rows, edited window and grace."""

    version = forms.CharField(label="Version name", max_length=40, help_text="e.g. 2026-07-window-3")
    window_days = forms.IntegerField(
        label="Window (± days around each due date)",
        min_value=0,
        max_value=3,
        help_text="At most ±3 days, so the weekly draws' windows do not overlap.",
    )
    grace_days = forms.IntegerField(
        label="Grace (days after the window before a late draw is overdue)", min_value=0, max_value=14
    )
    note = forms.CharField(label="Why this change", max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Create version and put it in force"))

    def clean_version(self) -> str:
        version = self.cleaned_data["version"].strip()
        if ProtocolVersion.objects.filter(version__iexact=version).exists():
            raise forms.ValidationError("A protocol version with this name already exists.")
        return version


YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(value: str) -> bool:
    return value == "yes"


class SteroidDecisionForm(forms.Form):
    action = forms.ChoiceField(label="Decision", choices=SteroidDecision.Action.choices, widget=forms.RadioSelect)
    clinical_exam_normal = forms.TypedChoiceField(
        label="Clinical exam normal (no jaundice, vomiting or other sign of liver injury)?",
        choices=YES_NO,
        coerce=_yes_no,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Record decision"))


WHO_FIELDS = [(f"who_{i}", item) for i, item in enumerate(milestone_rules.INSTRUMENTS["who_motor"].items)]
SCORE_FIELDS = ("chop_intend", "hine2", "hfmse", "rhs")


class AssessmentForm(forms.Form):
    """A milestone assessment: scores checked with milestones.validate_score (docs/domain.md §8)."""

    assessed_on = forms.DateField(label="Assessed on", widget=forms.DateInput(attrs={"type": "date"}))
    sits = forms.BooleanField(label="Sits without support", required=False)
    walks = forms.BooleanField(label="Walks alone", required=False)
    chop_intend = forms.IntegerField(label="CHOP INTEND (0–64)", required=False)
    hine2 = forms.IntegerField(label="HINE-2 (0–26)", required=False)
    hfmse = forms.IntegerField(label="HFMSE (0–66)", required=False)
    rhs = forms.IntegerField(label="RHS (0–69)", required=False)
    ventilator_free = forms.TypedChoiceField(
        label="Alive and free of permanent ventilation?",
        choices=YES_NO,
        coerce=_yes_no,
        widget=forms.RadioSelect,
        help_text=milestone_rules.VENTILATOR_FREE_DEFINITION,
    )
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, infused_on: date, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.infused_on, self.today = infused_on, today
        for name, item in WHO_FIELDS:
            self.fields[name] = forms.BooleanField(label=item.capitalize(), required=False)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_assessed_on(self) -> date:
        on = self.cleaned_data["assessed_on"]
        if on < self.infused_on:
            raise forms.ValidationError("The assessment cannot be before the infusion.")
        if on > self.today:
            raise forms.ValidationError("The assessment date is in the future.")
        return on

    def _score(self, name: str) -> int | None:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        try:
            return int(milestone_rules.validate_score(name, value))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_chop_intend(self):
        return self._score("chop_intend")

    def clean_hine2(self):
        return self._score("hine2")

    def clean_hfmse(self):
        return self._score("hfmse")

    def clean_rhs(self):
        return self._score("rhs")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("walks") and not cleaned.get("sits"):
            self.add_error("walks", "A child who walks also sits; check the answers.")
        if not self.errors and all(cleaned.get(name) is None for name in SCORE_FIELDS):
            self.add_error("chop_intend", "Enter at least one scored instrument (CHOP INTEND, HINE-2, HFMSE or RHS).")
        return cleaned

    def who_milestones(self) -> dict[str, bool]:
        return milestone_rules.validate_who_milestones({item: self.cleaned_data[name] for name, item in WHO_FIELDS})
