"""Intake, edit and result forms. They validate and convert input; the gate decides outcomes.

Every date of a result is checked against the child's date of birth and today, so a typo never
reaches the gate as a fact.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row
from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from accounts.models import Site
from cases.analytes import ANALYTES, PANEL_ANALYTES, to_canonical
from cases.audit import KINDS as AUDIT_KINDS
from cases.diagnoses import (
    FORBIDDEN_SMA_MESSAGE,
    PRIMARY_DIAGNOSIS_CHOICES,
    SECONDARY_DIAGNOSIS_CHOICES,
    is_forbidden_sma_code,
)
from cases.documents import DocumentRejected, document_check, max_size_text
from cases.eligibility import MOTOR_SCALES
from cases.models import (
    Case,
    Document,
    MotorAssessment,
    Patient,
    SmnTherapy,
    Stage,
    TiterResult,
    WeightMeasurement,
)
from cases.titers import parse_titer
from common.address import normalize_zip, validate_state
from common.dates import EARLIEST_BIRTH, PLAN_AHEAD_DAYS, days_ahead, range_problem
from common.npi import validate_npi
from common.wording import day_text

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A plausible range for a child's weight, to catch typos (grams, pounds), not a clinical rule:
# the gate judges the labeled 2.6-21.0 kg kit range (label Table 1).
WEIGHT_MIN_KG = Decimal("0.3")
WEIGHT_MAX_KG = Decimal("40")
THOUSANDTH = Decimal("0.001")


def _not_future(value: date | None, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(f"{what} cannot be in the future.")


def _not_before_birth(value: date | None, dob: date | None, what: str) -> None:
    if value is not None and dob is not None and value < dob:
        raise forms.ValidationError(f"{what} ({day_text(value)}) is before the child's birth ({day_text(dob)}).")
    _in_range(value, what, earliest=EARLIEST_BIRTH)  # also when the birth date itself was refused


def _in_range(value: date | None, what: str, *, earliest: date | None = None, latest: date | None = None) -> None:
    problem = range_problem(value, what=what, earliest=earliest, latest=latest)
    if problem:
        raise forms.ValidationError(problem)


def _unchanged(form: forms.ModelForm, name: str, value) -> bool:
    """True when an edit keeps the stored value: a record saved before a range existed (or a
    plan date now passed) stays editable; only what is typed anew is judged."""
    return form.instance.pk is not None and getattr(form.instance, name) == value


def _plan_date(form: forms.ModelForm, name: str, what: str, *, not_past: bool) -> date | None:
    """A planned date: not in the past at entry (when ``not_past``), at most ~2 years ahead."""
    value = form.cleaned_data[name]
    if value is None or _unchanged(form, name, value):
        return value
    today = timezone.localdate()
    if not_past and value < today:
        raise forms.ValidationError(f"{what} ({day_text(value)}) is in the past; enter the day it is planned for.")
    _in_range(value, what, latest=days_ahead(today, PLAN_AHEAD_DAYS))
    return value


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


class DiagnosisField(forms.ChoiceField):
    """A choice of ICD-10-CM codes that explains why a G12.2x code is refused (docs/domain.md §7, §11.14)."""

    def validate(self, value):
        if value:
            try:
                forbidden = is_forbidden_sma_code(value)
            except ValueError:
                forbidden = False
            if forbidden:
                raise forms.ValidationError(FORBIDDEN_SMA_MESSAGE)
        super().validate(value)


# --- Intake and edit ---------------------------------------------------------------------------
class PatientForm(forms.ModelForm):
    # Typed as 02134-1234 or 021341234; stored as 9 (or 5) digits (common.address).
    zip_code = forms.CharField(label="ZIP code", max_length=10, required=False, help_text="5 digits or ZIP+4.")
    state = forms.CharField(label="State", max_length=20, required=False, help_text="2-letter code, e.g. MA.")

    class Meta:
        model = Patient
        fields = [
            "site",
            "legal_name",
            "date_of_birth",
            "sex",
            "mrn",
            "gestational_age_weeks",
            "gestational_age_days",
            "birth_weight_kg",
            "guardian_name",
            "guardian_phone",
            "guardian_email",
            "preferred_language",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
        ]
        widgets = {"date_of_birth": DATE}
        labels = {
            "gestational_age_weeks": "Gestational age at birth (weeks)",
            "gestational_age_days": "+ days",
            "birth_weight_kg": "Birth weight (kg)",
            "guardian_phone": "Guardian phone",
            "guardian_email": "Guardian e-mail",
        }

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["site"]  # a patient stays at the site that opened the case
        else:
            self.fields["site"].queryset = sites
            only = list(sites[:2])
            if len(only) == 1:
                self.fields["site"].initial = only[0].pk
        self.helper = _helper(
            Fieldset(
                "Patient",
                *(["site"] if "site" in self.fields else []),
                Row(Column("legal_name", css_class="col-md-6"), Column("mrn", css_class="col-md-6")),
                Row(
                    Column("date_of_birth", css_class="col-md-4"),
                    Column("sex", css_class="col-md-4"),
                    Column("preferred_language", css_class="col-md-4"),
                ),
                Row(
                    Column("gestational_age_weeks", css_class="col-md-4"),
                    Column("gestational_age_days", css_class="col-md-4"),
                    Column("birth_weight_kg", css_class="col-md-4"),
                ),
                Row(
                    Column("guardian_name", css_class="col-md-4"),
                    Column("guardian_phone", css_class="col-md-4"),
                    Column("guardian_email", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Home address (optional now; the X12 837 claim needs it)",
                Row(Column("address_line1", css_class="col-md-6"), Column("address_line2", css_class="col-md-6")),
                Row(
                    Column("city", css_class="col-md-6"),
                    Column("state", css_class="col-md-2"),
                    Column("zip_code", css_class="col-md-4"),
                ),
            ),
        )

    def _get_validation_exclusions(self):
        # The (site, MRN) constraint is checked by cases.intake.patient_duplicate, which says
        # which case the patient already has instead of Django's generic message (the form
        # field still checks the MRN's length).
        return {*super()._get_validation_exclusions(), "mrn"}

    def clean_legal_name(self):
        return " ".join(self.cleaned_data["legal_name"].split())

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip()

    def clean_state(self):
        state = self.cleaned_data["state"].strip().upper()
        validate_state(state)
        return state

    def clean_zip_code(self):
        value = self.cleaned_data["zip_code"].strip()
        return normalize_zip(value) if value else ""

    def clean(self):
        data = super().clean()
        for name in ("address_line1", "address_line2", "city"):
            if isinstance(data.get(name), str):
                data[name] = " ".join(data[name].split())
        parts = ("address_line1", "city", "state", "zip_code")
        given = [n for n in (*parts, "address_line2") if data.get(n)]
        if given:
            for name in parts:
                if not data.get(name) and name not in self.errors:
                    label = self.fields[name].label
                    self.add_error(name, f"{label} is needed too: enter the whole address or leave it all empty.")
        return data

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        _not_future(dob, "Date of birth")
        if dob < EARLIEST_BIRTH and not _unchanged(self, "date_of_birth", dob):
            raise forms.ValidationError(
                f"A child born on {day_text(dob)} was over two years old when Zolgensma was approved "
                f"(May 24, 2019); check the year."
            )
        return dob


class CaseForm(forms.ModelForm):
    """The case half of intake and edit. ``date_of_birth`` comes from the patient form."""

    primary_diagnosis = DiagnosisField(
        label="Primary diagnosis (ICD-10-CM)",
        choices=PRIMARY_DIAGNOSIS_CHOICES,
        help_text="Official descriptors (ICD-10-CM FY2026). G12.2x motor neuron disease codes are not 5q SMA and are not offered.",
    )
    secondary_diagnosis = DiagnosisField(
        label="Secondary diagnosis (optional)",
        choices=(("", "None"), *SECONDARY_DIAGNOSIS_CHOICES),
        required=False,
        help_text="P09.x for an abnormal newborn screen; Z82.0 for a family history (sibling with SMA).",
    )
    genetic_report = forms.FileField(
        label="Genetic report (PDF, PNG or JPEG)",
        required=False,
        help_text=f"Up to {max_size_text()}. Checked by its content.",
    )

    class Meta:
        model = Case
        fields = [
            "sma_type",
            "symptomatic",
            "symptom_onset_months",
            "nbs_identified",
            "nbs_date",
            "primary_diagnosis",
            "secondary_diagnosis",
            "genetic_method",
            "smn1_genotype",
            "smn2_copies",
            "genetic_report_date",
            "payer",
            "plan_name",
            "member_id",
            "group_number",
            "subscriber_name",
            "subscriber_relationship",
            "site_of_care_pos",
            "ordering_physician_name",
            "ordering_physician_npi",
            "ordering_physician_specialty",
            "planned_infusion_date",
            "steroid_plan_start",
            "respiratory_support_hours",
            "respiratory_support_days",
            "tracheostomy",
            "prior_j3399",
        ]
        widgets = {
            "nbs_date": DATE,
            "genetic_report_date": DATE,
            "planned_infusion_date": DATE,
            "steroid_plan_start": DATE,
        }
        labels = {
            "symptomatic": "Symptomatic (unchecked: presymptomatic)",
            "genetic_method": "Genetic test method",
            "genetic_report_date": "Genetic report date",
            "plan_name": "Plan",
            "member_id": "Member ID",
            "ordering_physician_name": "Ordering physician",
            "respiratory_support_days": "Respiratory support for how many days",
        }
        help_texts = {
            "steroid_plan_start": "Label §2.1: prednisolone 1 mg/kg/day from the day before the infusion.",
            "respiratory_support_hours": "Including non-invasive ventilation; 0 when none.",
            "symptom_onset_months": "Symptomatic children only: whole months of age when symptoms began "
            "(0 in the first month). Some payers cover onset before 6 months only.",
        }

    def __init__(self, *args, date_of_birth: date | None = None, with_report: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.date_of_birth = date_of_birth
        self.fields["payer"].queryset = self.fields["payer"].queryset.order_by("name")  # billing.Payer
        self.fields["payer"].empty_label = "Not yet known"
        self.fields["smn2_copies"].widget.attrs["min"] = 0
        self.fields["symptom_onset_months"].widget.attrs.update(min=0, max=24)
        self.fields["respiratory_support_hours"].widget.attrs.update(min=0, max=24)
        self.fields["respiratory_support_days"].widget.attrs["min"] = 0
        if not with_report:
            del self.fields["genetic_report"]
        genetics = [
            Row(
                Column("genetic_method", css_class="col-md-3"),
                Column("smn1_genotype", css_class="col-md-5"),
                Column("smn2_copies", css_class="col-md-2"),
                Column("genetic_report_date", css_class="col-md-2"),
            )
        ]
        if with_report:
            genetics.append("genetic_report")
        self.helper = _helper(
            Fieldset(
                "Diagnosis",
                Row(
                    Column("sma_type", css_class="col-md-3"),
                    Column(Div("symptomatic", "nbs_identified"), css_class="col-md-3"),
                    Column("symptom_onset_months", css_class="col-md-3"),
                    Column("nbs_date", css_class="col-md-3"),
                ),
                Row(
                    Column("primary_diagnosis", css_class="col-md-6"),
                    Column("secondary_diagnosis", css_class="col-md-6"),
                ),
            ),
            Fieldset("Genetic confirmation", *genetics),
            Fieldset(
                "Coverage",
                Row(
                    Column("payer", css_class="col-md-4"),
                    Column("plan_name", css_class="col-md-4"),
                    Column("member_id", css_class="col-md-4"),
                ),
                Row(
                    Column("group_number", css_class="col-md-4"),
                    Column("subscriber_name", css_class="col-md-4"),
                    Column("subscriber_relationship", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Site of care and ordering physician",
                Row(
                    Column("site_of_care_pos", css_class="col-md-3"),
                    Column("ordering_physician_name", css_class="col-md-3"),
                    Column("ordering_physician_npi", css_class="col-md-3"),
                    Column("ordering_physician_specialty", css_class="col-md-3"),
                ),
                Row(
                    Column("planned_infusion_date", css_class="col-md-4"),
                    Column("steroid_plan_start", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Respiratory status and prior therapy",
                Row(
                    Column("respiratory_support_hours", css_class="col-md-4"),
                    Column("respiratory_support_days", css_class="col-md-4"),
                    Column(Div("tracheostomy", "prior_j3399"), css_class="col-md-4"),
                ),
            ),
        )

    def clean_ordering_physician_npi(self):
        npi = self.cleaned_data["ordering_physician_npi"].strip()
        if not npi:
            return ""
        try:
            npi = validate_npi(npi)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        # A facility NPI (an organization, Type 2) in the prescriber's place is a classic denial:
        # the payer cannot match the order to a physician.
        if Site.objects.filter(npi=npi).exists():
            raise forms.ValidationError(
                "This is a treatment site's facility NPI (Type 2). Enter the ordering physician's "
                "individual NPI (Type 1)."
            )
        return npi

    def clean_nbs_date(self):
        value = self.cleaned_data["nbs_date"]
        _not_future(value, "The newborn screen date")
        _not_before_birth(value, self.date_of_birth, "The newborn screen date")
        return value

    def clean_genetic_report_date(self):
        value = self.cleaned_data["genetic_report_date"]
        _not_future(value, "The genetic report date")
        # Prenatal reports may predate birth, by less than a pregnancy.
        earliest = (self.date_of_birth or EARLIEST_BIRTH) - timedelta(days=300)
        if not _unchanged(self, "genetic_report_date", value):
            _in_range(value, "The genetic report date", earliest=earliest)
        return value

    def clean_planned_infusion_date(self):
        value = self.cleaned_data["planned_infusion_date"]
        _not_before_birth(value, self.date_of_birth, "The planned infusion date")
        return _plan_date(self, "planned_infusion_date", "The planned infusion date", not_past=True)

    def clean_steroid_plan_start(self):
        value = self.cleaned_data["steroid_plan_start"]
        _not_before_birth(value, self.date_of_birth, "The steroid start date")
        # Day −1 of an infusion planned for today is yesterday: not refused as "past".
        return _plan_date(self, "steroid_plan_start", "The steroid start date", not_past=False)

    def clean_genetic_report(self):
        upload = self.cleaned_data.get("genetic_report")
        if upload:
            try:
                document_check(upload)
            except DocumentRejected as exc:
                raise forms.ValidationError(str(exc)) from None
        return upload

    def clean(self):
        data = super().clean()
        if data.get("nbs_identified") is False and data.get("nbs_date"):
            self.add_error(
                "nbs_date", "A newborn screen date was given but 'Identified by newborn screen' is not ticked."
            )
        onset = data.get("symptom_onset_months")
        if onset is not None and "symptom_onset_months" not in self.errors:
            if not data.get("symptomatic"):
                self.add_error(
                    "symptom_onset_months",
                    "An age at symptom onset was given but 'Symptomatic' is not ticked: tick it, or clear the age.",
                )
            elif self.date_of_birth is not None:
                today = timezone.localdate()
                age = (today.year - self.date_of_birth.year) * 12 + today.month - self.date_of_birth.month
                age -= today.day < self.date_of_birth.day
                if onset > max(age, 0):
                    self.add_error(
                        "symptom_onset_months",
                        f"Symptoms cannot begin at {onset} months: the child is {max(age, 0)} months old today.",
                    )
        return data


class TherapyForm(forms.ModelForm):
    class Meta:
        model = SmnTherapy
        fields = ["drug", "started_on", "stopped_on"]
        widgets = {"started_on": DATE, "stopped_on": DATE}
        labels = {"started_on": "Started", "stopped_on": "Stopped (blank: ongoing)"}

    def __init__(self, *args, date_of_birth: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.date_of_birth = date_of_birth

    def clean_started_on(self):
        value = self.cleaned_data["started_on"]
        _not_future(value, "The start date")
        _not_before_birth(value, self.date_of_birth, "The start date")
        return value

    def clean_stopped_on(self):
        value = self.cleaned_data["stopped_on"]
        _not_before_birth(value, self.date_of_birth, "The stop date")
        _in_range(value, "The stop date", latest=days_ahead(timezone.localdate(), PLAN_AHEAD_DAYS))
        return value

    def clean(self):
        data = super().clean()
        start, stop = data.get("started_on"), data.get("stopped_on")
        if start and stop and stop < start:
            self.add_error("stopped_on", "The stop date is before the start date.")
        return data


TherapyFormSet = forms.inlineformset_factory(Case, SmnTherapy, form=TherapyForm, extra=2, can_delete=True)


class VersionForm(forms.Form):
    """The version of the case the edit form was read at (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --- Results -----------------------------------------------------------------------------------
class _ResultForm(forms.ModelForm):
    date_field = ""
    date_label = ""
    id_prefix = ""  # the case page shows several forms: ids must stay unique

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.case = case
        self.helper = _helper()

    def _clean_date(self):
        value = self.cleaned_data[self.date_field]
        _not_future(value, self.date_label)
        _not_before_birth(value, self.case.patient.date_of_birth, self.date_label)
        return value


class WeightForm(_ResultForm):
    date_field, date_label, id_prefix = "measured_on", "The weighing date", "weight"

    class Meta:
        model = WeightMeasurement
        fields = ["measured_on", "kg"]
        widgets = {"measured_on": DATE}
        labels = {"measured_on": "Measured on", "kg": "Weight (kg)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kg"].widget.attrs.update(step="0.01", min=0)

    def clean_measured_on(self):
        return self._clean_date()

    def clean_kg(self):
        kg = self.cleaned_data["kg"]
        if kg <= 0:
            raise forms.ValidationError("A weight must be more than 0 kg.")
        if kg < WEIGHT_MIN_KG:
            raise forms.ValidationError(
                f"{kg} kg is too light to be right; enter kilograms ({WEIGHT_MIN_KG}-{WEIGHT_MAX_KG})."
            )
        if kg > WEIGHT_MAX_KG:
            raise forms.ValidationError(
                f"{kg} kg is too heavy for a young child: was it entered in pounds or grams? "
                f"Enter kilograms ({WEIGHT_MIN_KG}-{WEIGHT_MAX_KG})."
            )
        return kg


class TiterForm(_ResultForm):
    date_field, date_label, id_prefix = "drawn_on", "The draw date", "titer"

    class Meta:
        model = TiterResult
        fields = ["drawn_on", "lab", "method", "result_text"]
        widgets = {"drawn_on": DATE}
        labels = {"drawn_on": "Drawn on", "result_text": "Result as the lab wrote it"}
        help_texts = {"result_text": "e.g. 1:25, <1:25, 1:50, 1:100, ≥1:400", "method": "Total binding antibody ELISA"}

    def clean_drawn_on(self):
        return self._clean_date()

    def clean_result_text(self):
        text = self.cleaned_data["result_text"].strip()
        try:
            titer = parse_titer(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        self.instance.result_key = titer.key  # the comparable value stored next to the lab's text
        return text


class MotorAssessmentForm(_ResultForm):
    """A baseline motor assessment: the scale, its total score in the scale's range, and the date."""

    date_field, date_label, id_prefix = "assessed_on", "The assessment date", "motor"

    class Meta:
        model = MotorAssessment
        fields = ["scale", "score", "assessed_on"]
        widgets = {"assessed_on": DATE}
        labels = {"scale": "Scale", "score": "Total score", "assessed_on": "Assessed on"}
        help_texts = {"score": "The scale's total: CHOP INTEND 0–64, HINE-2 0–26."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].widget.attrs.update(min=0, max=64)
        # The model's bound is the largest scale's; the scale's own range is checked in clean().
        field = self.fields["score"]
        field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)]

    def clean_assessed_on(self):
        return self._clean_date()

    def clean(self):
        data = super().clean()
        scale, score = data.get("scale"), data.get("score")
        if scale in MOTOR_SCALES and score is not None:
            name, low, high = MOTOR_SCALES[scale]
            if not low <= score <= high:
                self.add_error("score", f"{name} is scored {low}–{high}; {score} is out of range.")
        return data


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=Document.Kind.choices, label="Kind of document")
    file = forms.FileField(
        label="File (PDF, PNG or JPEG)", help_text=f"Up to {max_size_text()}. Checked by its content."
    )

    def __init__(self, *args, case: Case | None = None, **kwargs):
        kwargs.setdefault("auto_id", "document_%s")
        super().__init__(*args, **kwargs)
        self.case = case
        self.helper = _helper()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            document_check(upload)
        except DocumentRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


# Units offered per analyte; each must be accepted by cases.analytes.to_canonical. PT/INR is
# one row: a PT in seconds is stored as "pt", an INR ratio as "inr" (both satisfy the PT gate).
# Each unit offered once (cases.analytes); a PT row may be reported as an INR instead.
LAB_UNITS: dict[str, tuple[str, ...]] = {a: ANALYTES[a].units_offered for a in PANEL_ANALYTES}
LAB_UNITS["pt"] = (*ANALYTES["pt"].units_offered, "INR")
LAB_LABELS = {a: ANALYTES[a].label for a in PANEL_ANALYTES}
LAB_LABELS["pt"] = "Prothrombin time or INR"


class LabPanelForm(forms.Form):
    """One baseline panel: a draw date and, per analyte, value + unit + the lab's ULN.

    Rows left blank are simply not recorded (a troponin drawn another day is its own panel).
    Values are converted to the canonical unit with cases.analytes.to_canonical
    (docs/domain.md §9 design note: store the reported ULN and units with each result).
    """

    drawn_on = forms.DateField(label="Drawn on", widget=DATE)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", "lab_%s")
        super().__init__(*args, **kwargs)
        self.case = case
        self.rows: list[dict] = []
        for analyte in PANEL_ANALYTES:
            label = LAB_LABELS[analyte]
            self.fields[f"{analyte}_value"] = forms.DecimalField(
                label=f"{label} value", required=False, min_value=0, max_digits=12, decimal_places=3
            )
            self.fields[f"{analyte}_unit"] = forms.ChoiceField(
                label=f"{label} unit", choices=[(u, u) for u in LAB_UNITS[analyte]], required=False
            )
            self.fields[f"{analyte}_uln"] = forms.DecimalField(
                label=f"{label} upper limit of normal", required=False, max_digits=12, decimal_places=3
            )
        self.helper = _helper()

    def _style(self, name: str) -> None:
        widget = self.fields[name].widget
        base = "form-select form-select-sm" if name.endswith("_unit") else "form-control form-control-sm"
        invalid = self.is_bound and name in self.errors
        widget.attrs["class"] = base + (" is-invalid" if invalid else "")
        if invalid:
            widget.attrs["aria-describedby"] = f"{self[name].auto_id}-error"

    def analyte_rows(self):
        """(label, [value field, unit field, ULN field]) per analyte, for the table template."""
        for analyte in PANEL_ANALYTES:
            for part in ("value", "unit", "uln"):
                self._style(f"{analyte}_{part}")
        return [(LAB_LABELS[a], [self[f"{a}_value"], self[f"{a}_unit"], self[f"{a}_uln"]]) for a in PANEL_ANALYTES]

    def clean_drawn_on(self):
        value = self.cleaned_data["drawn_on"]
        _not_future(value, "The draw date")
        _not_before_birth(value, self.case.patient.date_of_birth, "The draw date")
        return value

    def clean(self):
        data = super().clean()
        for analyte in PANEL_ANALYTES:
            value, unit, uln = (data.get(f"{analyte}_{part}") for part in ("value", "unit", "uln"))
            if value is None:
                if uln is not None:
                    self.add_error(f"{analyte}_value", "Enter the value for this upper limit of normal.")
                continue
            if uln is None:
                self.add_error(f"{analyte}_uln", "Enter the lab's upper limit of normal for this result.")
                continue
            if uln <= 0:
                self.add_error(f"{analyte}_uln", "The upper limit of normal must be above 0.")
                continue
            if not unit:
                if f"{analyte}_unit" not in self.errors:
                    self.add_error(f"{analyte}_unit", "Choose the unit the lab reported.")
                continue
            stored = "inr" if analyte == "pt" and unit == "INR" else analyte
            unit_for_conversion = "ratio" if stored == "inr" else unit
            try:
                value_c, canonical = to_canonical(stored, value, unit_for_conversion)
                uln_c, _ = to_canonical(stored, uln, unit_for_conversion)
            except ValueError as exc:
                self.add_error(f"{analyte}_unit", str(exc))
                continue
            self.rows.append(
                dict(
                    analyte=stored,
                    value=value,
                    unit=unit,
                    uln=uln,
                    value_canonical=value_c.quantize(THOUSANDTH, rounding=ROUND_HALF_UP),
                    uln_canonical=uln_c.quantize(THOUSANDTH, rounding=ROUND_HALF_UP),
                    canonical_unit=canonical,
                )
            )
        if not self.errors and not self.rows:
            raise forms.ValidationError("Enter at least one result.")
        return data


# --- Case list ---------------------------------------------------------------------------------
SORTS = {
    "name": "patient__legal_name",
    "mrn": "patient__mrn",
    "dob": "patient__date_of_birth",
    "site": "site__short_code",
    "stage": "stage_order",
    "payer": "payer__name",
    "planned": "planned_infusion_date",
    "updated": "updated_at",
}


class CaseFilterForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False, max_length=100)
    site = forms.TypedChoiceField(label="Site", required=False, coerce=int, empty_value=None)
    stage = forms.ChoiceField(label="Stage", required=False, choices=(("", "Any stage"), *Stage.choices))
    payer = forms.TypedChoiceField(label="Payer", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(
        required=False, choices=[(k, k) for k in SORTS] + [(f"-{k}", f"-{k}") for k in SORTS], widget=forms.HiddenInput
    )

    def __init__(self, *args, sites=(), payers: tuple[tuple[int, str], ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "All my sites"), *((s.pk, s.name) for s in sites)]
        self.fields["payer"].choices = [("", "Any payer"), *payers]
        self.helper = _helper(
            Row(
                Column("q", css_class="col-12 col-md-4"),
                Column("site", css_class="col-6 col-md-3"),
                Column("stage", css_class="col-6 col-md-2"),
                Column("payer", css_class="col-6 col-md-3"),
                "sort",
            ),
            HTML(""),
        )


class AuditFilterForm(forms.Form):
    """The audit history's filters (GET): kind of entry and person."""

    kind = forms.ChoiceField(label="Show", choices=list(AUDIT_KINDS.items()), required=False)
    person = forms.ModelChoiceField(label="Person", queryset=None, required=False, empty_label="Everyone")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda user: user.get_full_name() or user.username
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
