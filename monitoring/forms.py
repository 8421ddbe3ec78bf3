"""Monitoring forms: they validate and convert input; the workflows decide outcomes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from cases.analytes import ANALYTES
from cases.overrides import NO_PLAN_REASONS, OVERRIDE_TEXT_MIN_LENGTH, OverrideStep
from common.wording import day_text
from monitoring import milestones as milestone_rules
from monitoring.kinds import DrawKind
from monitoring.models import Draw, DrawState, ProtocolVersion, Result, SteroidDecision
from monitoring.workflows import ResultInput, draw_name

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


class ResultMoveForm(forms.Form):
    """Move one of a draw's results to another draw of the same case (issue 19 item 2).

    The draw choices are the case's other draws that are not missed and not a steroid review;
    a draw of another case (or any other number) is not among them and is refused with a plain
    message. Whether the draw records the analyte is checked here and again by the workflow
    (monitoring.workflows.result_move)."""

    result = forms.ModelChoiceField(label="Result to move", queryset=Result.objects.none())
    to = forms.ModelChoiceField(
        label="Move it to",
        queryset=Draw.objects.none(),
        error_messages={
            "invalid_choice": "Pick one of this patient's draws from the list: that draw is not one of them."
        },
    )
    reason = forms.CharField(
        label="Why it belongs there",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. the lab's collection date was the requisition date; the sample is the day-14 draw",
    )

    def __init__(self, *args, draw: Draw, **kwargs):
        super().__init__(*args, **kwargs)
        self.draw = draw
        self.fields["result"].queryset = draw.results.all()
        self.fields["result"].label_from_instance = lambda r: f"{r.analyte_label} {r.value.normalize():f} {r.unit}"
        self.fields["to"].queryset = (
            Draw.objects.filter(case_id=draw.case_id)
            .exclude(pk=draw.pk)
            .exclude(state=DrawState.MISSED)
            .exclude(kind=DrawKind.STEROID_REVIEW)
            .order_by("kind", "due_on", "pk")
        )
        self.fields["to"].label_from_instance = lambda d: (
            f"{draw_name(d)}, due {day_text(d.due_on)} ({d.get_state_display().lower()})"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self):
        cleaned = super().clean()
        result, to = cleaned.get("result"), cleaned.get("to")
        if result is not None and to is not None and not to.records(result.analyte):
            self.add_error(
                "to",
                f"{draw_name(to)} does not record {result.analyte_label}; pick a {self.draw.kind_label.lower()} draw.",
            )
        return cleaned


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
# An override's free text must say something ("Trying taper" was accepted before issue 15).
OVERRIDE_EXPLANATION_MIN_LENGTH = OVERRIDE_TEXT_MIN_LENGTH


def _yes_no(value: str) -> bool:
    return value == "yes"


class SteroidDecisionForm(OverrideStep, forms.Form):
    """A steroid decision. A taper the rule advises against takes a second step: the form comes
    back with the override fields (cases.overrides.OverrideStep: a listed reason, a confirmation
    and the physician's password), and only then is it recorded (issue 15 item 2). The
    decision's own "Reason" is the override's free text.

    ``recommend(clinical_exam_normal)`` returns the rule's recommended action ("taper" or
    "continue") for the latest liver results; ``request`` authenticates the password.
    """

    action = forms.ChoiceField(label="Decision", choices=SteroidDecision.Action.choices, widget=forms.RadioSelect)
    clinical_exam_normal = forms.TypedChoiceField(
        label="Clinical exam normal (no jaundice, vomiting or other sign of liver injury)?",
        choices=YES_NO,
        coerce=_yes_no,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    submit_label = "Record decision"
    override_reasons = tuple(SteroidDecision.OverrideReason.choices)
    override_reason_label = "Why taper against the recommendation?"
    override_reason_missing = "Pick the reason for tapering against the recommendation."
    override_text_field = "reason"
    override_confirm_label = (
        "I confirm this taper goes against the label's rule (ALT and AST < 2×ULN, normal bilirubin, "
        "PT and exam) and I take responsibility for it."
    )
    override_password_wrong = "That is not your password; the decision was not recorded."

    def __init__(self, *args, request=None, recommend=None, **kwargs):
        self.request, self.recommend = request, recommend
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", self.submit_label))

    def clean(self):
        cleaned = super().clean()
        action, exam = cleaned.get("action"), cleaned.get("clinical_exam_normal")
        if self.errors or action is None or exam is None or self.recommend is None:
            return cleaned
        recommended = self.recommend(exam)
        if not (action == SteroidDecision.Action.TAPER and recommended == SteroidDecision.Action.CONTINUE):
            return cleaned
        if not self.in_override_step():
            self.ask_for_override(
                "The label's rule says continue the full dose (see the recommendation). To taper anyway, "
                "pick the reason, confirm, and re-enter your password; otherwise choose “Continue full dose”."
            )
        self.clean_override(cleaned)
        return cleaned


class SteroidCorrectionForm(SteroidDecisionForm):
    """A new decision that supersedes a mistaken one; the old one stays in the history."""

    correction_reason = forms.CharField(
        label="Why the earlier decision was wrong",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the earlier decision was wrong."},
    )

    submit_label = "Record the corrected decision"

    def clean_correction_reason(self) -> str:
        text = " ".join(self.cleaned_data["correction_reason"].split())
        if len(text) < 3:
            raise forms.ValidationError("Say why the earlier decision was wrong.")
        return text


# How far ahead a repeat draw may be ordered from an acknowledgement [D] (product policy).
MAX_REPEAT_DAYS = 60


class FlagAcknowledgeForm(OverrideStep, forms.Form):
    """A physician's acknowledgement of result flags: what they saw and the plan (issue 15 item 1).

    Without a plan the form comes back with the override step (cases.overrides.OverrideStep):
    marking a result reviewed without a plan is a decision against the rule (issue 15 item 2).
    ``correcting``: the acknowledgement replaces a mistaken one, and says why (item 3).
    """

    flags = forms.TypedMultipleChoiceField(coerce=int, widget=forms.MultipleHiddenInput)
    note = forms.CharField(
        label="What you saw",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. ALT 5×ULN on day 14, child well, no jaundice",
        error_messages={"required": "Say in a few words what you saw."},
    )
    plan = forms.CharField(
        label="Plan",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What happens next: repeat draw, steroid change (e.g. keep 1 mg/kg/day, raise the dose), referral",
    )
    repeat_on = forms.DateField(
        label="Repeat draw on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: adds a draw of the same kind to the schedule on this day.",
    )

    override_reasons = NO_PLAN_REASONS
    override_reason_label = "Why mark it reviewed without a plan?"
    override_reason_missing = "Pick the reason for reviewing without a plan."
    override_text_label = "Explain, in your words, why no plan is needed"
    override_confirm_label = (
        "I confirm this result needs no plan, against the rule that every urgent or abnormal result "
        "gets one, and I take responsibility for it."
    )
    override_password_wrong = "That is not your password; the acknowledgement was not recorded."

    def __init__(self, *args, flag_choices: list[int], today: date, request=None, correcting: bool = False, **kwargs):
        self.request, self.today = request, today
        super().__init__(*args, **kwargs)
        self.fields["flags"].choices = [(pk, pk) for pk in flag_choices]
        self.fields["flags"].error_messages["invalid_choice"] = (
            "One of these flags was acknowledged or resolved meanwhile; reload the page."
        )
        if correcting:
            self.fields["correction_reason"] = forms.CharField(
                label="Why the earlier acknowledgement was wrong",
                max_length=300,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": "Say why the earlier acknowledgement was wrong."},
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Acknowledge with this plan"))

    def clean_plan(self) -> str:
        plan = " ".join(self.cleaned_data["plan"].split())
        if plan and len(plan) < 3:
            raise forms.ValidationError("An acknowledgement needs a plan: say what happens next.")
        return plan

    def clean(self):
        cleaned = super().clean()
        if "plan" not in cleaned or cleaned["plan"]:
            return cleaned
        if not self.in_override_step():
            self.add_error("plan", "An acknowledgement needs a plan: say what happens next.")
            self.ask_for_override(
                "No plan was given. Write the plan, or, if this result truly needs none, record an override: "
                "pick the reason, explain it, confirm, and re-enter your password."
            )
        self.clean_override(cleaned)
        return cleaned

    def clean_note(self) -> str:
        note = " ".join(self.cleaned_data["note"].split())
        if len(note) < 3:
            raise forms.ValidationError("Say in a few words what you saw.")
        return note

    def clean_repeat_on(self) -> date | None:
        value = self.cleaned_data.get("repeat_on")
        if value is None:
            return None
        if value < self.today:
            raise forms.ValidationError(f"A repeat draw cannot be in the past (today is {day_text(self.today)}).")
        if value > self.today + timedelta(days=MAX_REPEAT_DAYS):
            raise forms.ValidationError(f"Order a repeat within {MAX_REPEAT_DAYS} days, or add it to the schedule.")
        return value


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

    def __init__(self, *args, infused_on: date, today: date, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.infused_on, self.today = infused_on, today
        for name, item in WHO_FIELDS:
            self.fields[name] = forms.BooleanField(label=item.capitalize(), required=False)
        if correcting:  # a current assessment exists: this one replaces it (issue 15 item 3)
            self.fields["correction_reason"] = forms.CharField(
                label="What was wrong with the current assessment",
                max_length=280,
                help_text="The current assessment is voided with this reason and stays in the history, struck through.",
                error_messages={"required": "Say what was wrong with the current assessment."},
            )
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

    def values(self) -> dict:
        """The assessment's values for monitoring.workflows.assessment_record."""
        data = self.cleaned_data
        names = ("assessed_on", "sits", "walks", *SCORE_FIELDS, "ventilator_free", "notes")
        return {**{name: data[name] for name in names}, "who_milestones": self.who_milestones()}

    def who_milestones(self) -> dict[str, bool]:
        return milestone_rules.validate_who_milestones({item: self.cleaned_data[name] for name, item in WHO_FIELDS})
