"""Infusion-day forms. They validate and convert; cases.infusion.rules decides what is refused."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, time, timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone

from cases.infusion.models import OVERRIDE_REASON_MIN_LENGTH, InfusionPause, InfusionRecord, InfusionVial
from cases.infusion.rules import PauseValues, RecordCheck, RecordValues, VialValues, check_record
from cases.overrides import SIGN_OFF_REASONS, OverrideStep
from common.dates import EXPIRY_AHEAD_DAYS, PLAN_AHEAD_DAYS, PRODUCT_APPROVED_ON, days_ahead, range_problem
from common.wording import day_text, plain

AMENDMENT_REASON_MIN_LENGTH = 10
WEIGHT_INPUT_MAX_KG = Decimal("60")  # sanity bound on input, not a clinical rule
_LOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*$")
MISSING_VERSION = (
    "This form does not say which version of the record it was opened at, so it cannot be saved "
    "or signed safely. Reload the page; copy anything you typed first."
)


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    return helper


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def clean_weight(value: Decimal | None) -> Decimal | None:
    if value is not None and not (Decimal(0) < value <= WEIGHT_INPUT_MAX_KG):
        raise forms.ValidationError(f"Enter the weight in kg, above 0 and at most {WEIGHT_INPUT_MAX_KG}.")
    return value


def clean_day(
    value: date | None, what: str, *, ahead_days: int = PLAN_AHEAD_DAYS, earliest: date | None = PRODUCT_APPROVED_ON
) -> date | None:
    """An infusion-day date: not before Zolgensma's approval (May 24, 2019), at most
    ``ahead_days`` past today (issue 13 item 7: 0001-01-01 or 9999-12-31 overflow date arithmetic)."""
    latest = days_ahead(timezone.localdate(), ahead_days)
    problem = range_problem(value, what=what, earliest=earliest, latest=latest)
    if problem:
        raise forms.ValidationError(problem)
    return value


def clean_expiry(value: date | None) -> date | None:
    # A past expiry is the rules' to refuse ("expired on …, before the infusion date").
    return clean_day(value, "The expiry date", ahead_days=EXPIRY_AHEAD_DAYS, earliest=None)


def clean_lot(value: str) -> str:
    value = value.strip()
    if value and not _LOT.match(value):
        raise forms.ValidationError("A lot number has letters, digits and - / . only, as printed on the vial.")
    return value


class InfusionRecordForm(forms.ModelForm):
    """The record's own fields. Vials come in VialFormSet; ``apply_rules`` judges both together."""

    # The version the form was read at (0: no record yet). Required: a save without it could
    # overwrite someone else's newer save unseen (issue 13 item 2).
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={
            "required": MISSING_VERSION,
            "invalid": MISSING_VERSION,
            "min_value": MISSING_VERSION,
        },
    )

    class Meta:
        model = InfusionRecord
        fields = [
            "infused_on",
            "weight_kg",
            "steroid_started_on",
            "steroid_started_at",
            "steroid_mg",
            "steroid_confirmed",
            "kit_ndc",
            "total_volume_ml",
            "syringe_pump",
            "catheter",
            "started_at",
            "stopped_at",
            "adverse_events",
            "administered_by",
        ]
        widgets = {
            "infused_on": DateInput(),
            "steroid_started_on": DateInput(),
            "steroid_started_at": TimeInput(),
            "started_at": TimeInput(),
            "stopped_at": TimeInput(),
            "adverse_events": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "weight_kg": "Rounded to 0.1 kg for the kit (label Table 1).",
            "steroid_started_on": "Label §2.1: the day before the infusion (day −1).",
            "steroid_mg": "Prednisolone 1 mg/kg/day (label §2.1).",
            "kit_ndc": "As printed on the kit carton, e.g. 71894-124-04.",
            "syringe_pump": "Programmable syringe pump (label §2.1), e.g. make, model and asset tag.",
            "catheter": "Venous catheter and the back-up catheter.",
            "adverse_events": "Write “None” if there were none.",
            "administered_by": "Name and credentials of the nurse or physician who gave the infusion.",
        }

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.helper = _helper()
        if "version" not in self.initial:
            self.initial["version"] = self.instance.version if self.instance.pk else 0

    def clean_weight_kg(self):
        return clean_weight(self.cleaned_data.get("weight_kg"))

    def clean_infused_on(self):
        on = self.cleaned_data.get("infused_on")
        if not (self.instance.pk and self.instance.infused_on == on):
            on = clean_day(on, "The infusion date")
        # The record documents a day that has come: a draft dated later cannot be signed, and a
        # plan that moves meanwhile left such drafts stuck (issue 15 item 3). Move the plan instead.
        if on is not None and self.today is not None and on > self.today:
            raise forms.ValidationError(
                f"{day_text(on)} is after today ({day_text(self.today)}): the record is written on the "
                "infusion day. To plan a later date, change the planned infusion date above."
            )
        return on

    def clean_steroid_started_on(self):
        value = self.cleaned_data.get("steroid_started_on")
        if self.instance.pk and self.instance.steroid_started_on == value:
            return value
        return clean_day(value, "The prednisolone start date")

    def clean_kit_ndc(self):
        return "".join((self.cleaned_data.get("kit_ndc") or "").split())

    def values(self, vials: tuple[VialValues, ...], pauses: tuple[PauseValues, ...] = ()) -> RecordValues:
        data = self.cleaned_data
        return RecordValues(
            infused_on=data["infused_on"],
            weight_kg=data.get("weight_kg"),
            steroid_started_on=data.get("steroid_started_on"),
            steroid_started_at=data.get("steroid_started_at"),
            steroid_mg=data.get("steroid_mg"),
            steroid_confirmed=bool(data.get("steroid_confirmed")),
            kit_ndc=data.get("kit_ndc") or "",
            vials=vials,
            total_volume_ml=data.get("total_volume_ml"),
            syringe_pump=data.get("syringe_pump") or "",
            catheter=data.get("catheter") or "",
            started_at=data.get("started_at"),
            stopped_at=data.get("stopped_at"),
            adverse_events=data.get("adverse_events") or "",
            administered_by=data.get("administered_by") or "",
            pauses=pauses,
        )


class VialForm(forms.Form):
    size_ml = forms.ChoiceField(label="Size", choices=[("", "—")] + list(InfusionVial.Size.choices), required=False)
    lot_number = forms.CharField(label="Lot number", max_length=40, required=False)
    expires_on = forms.DateField(label="Expiry", required=False, widget=DateInput())

    def clean_lot_number(self):
        return clean_lot(self.cleaned_data.get("lot_number") or "")

    def clean_expires_on(self):
        return clean_expiry(self.cleaned_data.get("expires_on"))

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("size_ml") or data.get("lot_number") or data.get("expires_on"))


VialFormSet = forms.formset_factory(VialForm, extra=0, max_num=14, absolute_max=14, validate_max=True)


class PauseForm(forms.Form):
    """One stop of the pump: stopped, resumed, why. Blank rows are ignored."""

    started_at = forms.TimeField(label="Pump stopped", required=False, widget=TimeInput())
    resumed_at = forms.TimeField(label="Pump resumed", required=False, widget=TimeInput())
    reason = forms.CharField(label="Why", max_length=200, required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("started_at") or data.get("resumed_at") or (data.get("reason") or "").strip())


PauseFormSet = forms.formset_factory(PauseForm, extra=0, max_num=6, absolute_max=6, validate_max=True)
PAUSE_BLANK_ROWS = 2


def pause_rows(formset) -> list[tuple[int, PauseForm]]:
    """The (1-based position, form) of every pause row that has something in it."""
    rows = [form for form in formset.forms if form.is_valid() and not form.is_blank()]
    return list(enumerate(rows, start=1))


def pause_values(formset) -> tuple[PauseValues, ...]:
    return tuple(
        PauseValues(
            started_at=f.cleaned_data.get("started_at"),
            resumed_at=f.cleaned_data.get("resumed_at"),
            reason=(f.cleaned_data.get("reason") or "").strip(),
        )
        for _, f in pause_rows(formset)
    )


def vial_rows(formset) -> list[tuple[int, VialForm]]:
    """The (1-based position, form) of every vial row that has something in it."""
    rows = [form for form in formset.forms if form.is_valid() and not form.is_blank()]
    return list(enumerate(rows, start=1))


def apply_rules(form: InfusionRecordForm, formset, pause_formset) -> RecordCheck | None:
    """Run cases.infusion.rules.check_record on valid forms and put refusals next to the fields.

    Returns the check (warnings and what signing still needs), or None when a field is invalid.
    """
    if not (form.is_valid() and formset.is_valid() and pause_formset.is_valid()):
        return None
    rows = vial_rows(formset)
    pauses = pause_rows(pause_formset)
    vials = tuple(
        VialValues(
            size_ml=Decimal(f.cleaned_data["size_ml"]) if f.cleaned_data.get("size_ml") else None,
            lot_number=f.cleaned_data.get("lot_number") or "",
            expires_on=f.cleaned_data.get("expires_on"),
        )
        for _, f in rows
    )
    check = check_record(form.values(vials, pause_values(pause_formset)))
    for name, messages in check.errors.items():
        for message in messages:
            if name.startswith("vial-"):
                index = int(name.split("-")[1])
                rows[index - 1][1].add_error(None, message)
            elif name.startswith("pause-"):
                index = int(name.split("-")[1])
                pauses[index - 1][1].add_error(None, message)
            elif name == "vials":
                form.add_error(None, message)
            else:
                form.add_error(name, message)
    return None if check.errors else check


YES_NO = [("yes", "Yes"), ("no", "No")]


class ClinicalStatusForm(forms.Form):
    """The physician's check before the infusion: no active infection, clinically stable (label §5)."""

    checked_on = forms.DateField(label="Checked on", widget=DateInput())
    no_active_infection = forms.TypedChoiceField(
        label="No active infection (no fever, no respiratory or other infection)?",
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    clinically_stable = forms.TypedChoiceField(
        label="Clinically stable (hydration, nutrition, vital signs)?",
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(label="Notes", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, today: date, date_of_birth: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.date_of_birth = today, date_of_birth
        self.helper = _helper()

    def clean_checked_on(self):
        on = self.cleaned_data["checked_on"]
        if on > self.today:
            raise forms.ValidationError(f"A check cannot be dated after today ({day_text(self.today)}).")
        if on < self.date_of_birth:
            raise forms.ValidationError("A check cannot be dated before the date of birth.")
        return on

    def clean(self):
        data = super().clean()
        no_infection, stable = data.get("no_active_infection"), data.get("clinically_stable")
        if (no_infection is False or stable is False) and not (data.get("notes") or "").strip():
            self.add_error("notes", "Say what was found; the infusion will be postponed (label §5).")
        return data


class PlanForm(forms.Form):
    """The planned infusion date and prednisolone start, editable on the infusion page."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    planned_on = forms.DateField(label="Planned infusion date", widget=DateInput())
    steroid_start = forms.DateField(
        label="Prednisolone start",
        required=False,
        widget=DateInput(),
        help_text="Blank: the day before the infusion (label §2.1).",
    )

    def __init__(self, *args, today: date, date_of_birth: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.date_of_birth = today, date_of_birth
        self.helper = _helper()

    def clean_planned_on(self):
        on = self.cleaned_data["planned_on"]
        if on < self.today:
            raise forms.ValidationError(f"The planned date cannot be before today ({day_text(self.today)}).")
        if on <= self.date_of_birth:
            raise forms.ValidationError("The planned date must be after the date of birth.")
        return on

    def clean(self):
        data = super().clean()
        on = data.get("planned_on")
        if on is None:
            return data
        start = data.get("steroid_start") or on - timedelta(days=1)
        if start >= on:
            self.add_error(
                "steroid_start",
                f"Prednisolone starts before the infusion (label §2.1: the day before, {day_text(on - timedelta(days=1))}).",
            )
        data["steroid_start"] = start
        return data


class OverrideForm(forms.Form):
    """A physician's written override of one blocking gate item."""

    gate_id = forms.ChoiceField(label="Gate item to override")
    reason = forms.CharField(
        label="Reason (clinical justification)",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=OVERRIDE_REASON_MIN_LENGTH,
        help_text=f"Required, at least {OVERRIDE_REASON_MIN_LENGTH} characters. It is shown on the case "
        "and in the claim summary.",
        error_messages={
            "required": "An override needs a written reason.",
            "min_length": f"Write the reason in at least {OVERRIDE_REASON_MIN_LENGTH} characters.",
        },
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gate_id"].choices = [(i.id, plain(f"{i.title}: {i.detail}")) for i in items]
        self.helper = _helper()


class SignForm(OverrideStep, forms.Form):
    """The physician re-enters their password to sign the version of the record shown.

    ``version`` is the record version rendered on the same page; signing refuses any other
    (cases.infusion.workflows.infusion_sign), so a signature covers only content the physician saw.

    ``overridden``: the titles of the gate items a physician overrode for this infusion. Signing
    then goes against the gate, so it takes the override step (cases.overrides.OverrideStep: a
    listed reason, free text, a confirmation and the password typed again; issue 15 item 2).
    """

    override_reasons = SIGN_OFF_REASONS
    override_reason_label = "Why infuse with the overridden gate item?"
    override_reason_missing = "Pick the reason for signing with an overridden gate item."
    override_text_label = "Explain, in your words"
    override_confirm_label = (
        "I confirm the infusion went ahead although the gate item(s) above did not pass, and I take "
        "responsibility for it."
    )

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION, "min_value": MISSING_VERSION},
    )
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), strip=False
    )

    def __init__(self, *args, request=None, overridden: tuple[str, ...] = (), **kwargs):
        kwargs.setdefault("auto_id", "sign_%s")  # the record form on the same page has a "version" too
        self.request, self.overridden = request, tuple(overridden)
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean(self):
        cleaned = super().clean()
        if not self.overridden or "version" in self.errors:
            return cleaned
        if not self.in_override_step():
            self.ask_for_override(
                "Signing goes against the gate: "
                + "; ".join(f"“{title}”" for title in self.overridden)
                + (" was" if len(self.overridden) == 1 else " were")
                + " overridden, not passed. To sign, pick the reason, explain it, confirm, and type your "
                "password again."
            )
        self.clean_override(cleaned)
        return cleaned

    def show_version(self, version: int) -> None:
        """After a refusal, carry ``version`` (the record now shown on the page) in the form."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(version)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through the authentication backends, so axes counts wrong passwords here too.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError("That is not your password; the record was not signed.")
        return password


# --- Amendments ---------------------------------------------------------------------------------
_RECORD_AMENDABLE = (
    "weight_kg",
    "steroid_started_on",
    "steroid_started_at",
    "steroid_mg",
    "total_volume_ml",
    "syringe_pump",
    "catheter",
    "started_at",
    "stopped_at",
    "adverse_events",
    "administered_by",
)


def as_text(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PauseValues):
        return f"pause {as_text(value.started_at)}-{as_text(value.resumed_at)}: {value.reason}"
    return str(value)


PAUSE_ADD = "pause-add"
_PAUSE_KEY = re.compile(r"^pause-(\d+)-(correct|remove)$")
_PAUSE_TEXT = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s+(\S.*)$")


def parse_pause(text: str) -> PauseValues:
    """ "09:20-09:50 Line occlusion" -> PauseValues; ValidationError for anything else."""
    match = _PAUSE_TEXT.match(text or "")
    if match is None:
        raise forms.ValidationError("Write the pause as stopped-resumed and why, e.g. “09:20-09:50 Line occlusion”.")
    try:
        stopped, resumed = (time.fromisoformat(t.zfill(5)) for t in match.groups()[:2])
    except ValueError:
        raise forms.ValidationError("Enter the times as HH:MM on a 24-hour clock, e.g. 09:20-09:50.") from None
    reason = match.group(3).strip()
    if len(reason) > 200:
        raise forms.ValidationError("Keep the reason under 200 characters.")
    return PauseValues(started_at=stopped, resumed_at=resumed, reason=reason)


def amendable_fields(record: InfusionRecord, vials, pauses=()) -> dict[str, tuple[str, forms.Field, object]]:
    """Return {key: (label, form field that converts the new value, current value)}.

    The infusion date and kit NDC are not amendable: the date anchors the monitoring schedule
    and the kit follows the weight.
    """
    out: dict[str, tuple[str, forms.Field, object]] = {}
    for name in _RECORD_AMENDABLE:
        model_field = InfusionRecord._meta.get_field(name)
        out[name] = (str(model_field.verbose_name).capitalize(), model_field.formfield(), getattr(record, name))
    for vial in vials:
        out[f"vial-{vial.position}-lot_number"] = (
            f"Vial {vial.position} lot number",
            forms.CharField(max_length=40),
            vial.lot_number,
        )
        out[f"vial-{vial.position}-expires_on"] = (f"Vial {vial.position} expiry", forms.DateField(), vial.expires_on)
    # Pauses: one left out when the record was signed (e.g. written in the adverse events) is
    # added, a recorded one corrected or removed, each as an amendment, so the actual infusion
    # time, and with it 96365/96366 on the claim, follows the corrected record.
    out[PAUSE_ADD] = ("Add a pause (stopped-resumed why)", forms.CharField(max_length=240), None)
    for pause in pauses:
        values = pause.values()
        when = f"{as_text(pause.started_at)}-{as_text(pause.resumed_at)}"
        out[f"pause-{pause.position}-correct"] = (
            f"Pause {pause.position} ({when}): correct (stopped-resumed why)",
            forms.CharField(max_length=240),
            values,
        )
        out[f"pause-{pause.position}-remove"] = (
            f"Pause {pause.position} ({when}): remove (leave the corrected value blank)",
            forms.CharField(max_length=240, required=False),
            values,
        )
    return out


class AmendmentForm(forms.Form):
    # The record version the form was read at: a pause is named by its number, so an amendment
    # made meanwhile could make it another pause (cases.infusion.workflows.amendment_add).
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION, "min_value": MISSING_VERSION},
    )
    field = forms.ChoiceField(label="Field to amend")
    new_value = forms.CharField(
        label="Corrected value",
        max_length=2000,
        required=False,
        help_text="Dates as YYYY-MM-DD, times as HH:MM, numbers without units; a pause as "
        "“09:20-09:50 Line occlusion”; blank to remove a pause.",
    )
    reason = forms.CharField(
        label="Reason for the amendment",
        widget=forms.Textarea(attrs={"rows": 2}),
        min_length=AMENDMENT_REASON_MIN_LENGTH,
        error_messages={
            "required": "An amendment needs a reason.",
            "min_length": f"Write the reason in at least {AMENDMENT_REASON_MIN_LENGTH} characters.",
        },
    )

    def __init__(self, *args, record: InfusionRecord, vials, pauses=None, **kwargs):
        kwargs.setdefault("auto_id", "amend_%s")  # the sign form on the page has a "version" too
        super().__init__(*args, **kwargs)
        self.record, self.vials = record, list(vials)
        self.pauses = list(record.pauses.all() if pauses is None else pauses)
        self.amendable = amendable_fields(record, self.vials, self.pauses)
        self.fields["field"].choices = [(k, label) for k, (label, _f, _v) in self.amendable.items()]
        if "version" not in self.initial:
            self.initial["version"] = record.version
        self.helper = _helper()

    def clean(self):
        data = super().clean()
        if "version" in self.errors:
            self.add_error(None, MISSING_VERSION)  # a hidden field's error is shown at the form's top
        key = data.get("field")
        if not key or "new_value" not in data or self.errors:
            return data
        label, converter, old = self.amendable[key]
        raw = data["new_value"]
        pause_key = _PAUSE_KEY.match(key)
        try:
            if pause_key and pause_key.group(2) == "remove":
                if raw.strip():
                    raise forms.ValidationError(
                        "To remove a pause, leave the corrected value blank; to change its times or reason, "
                        f"choose “Pause {pause_key.group(1)}: correct”."
                    )
                new = None
            else:
                new = converter.clean(raw)
            if key == PAUSE_ADD or (pause_key and pause_key.group(2) == "correct"):
                new = parse_pause(new)
            elif key == "weight_kg":
                new = clean_weight(new)
            elif key.endswith("expires_on"):
                new = clean_expiry(new)
            elif key == "steroid_started_on":
                new = clean_day(new, "The prednisolone start date")
            elif key.endswith("lot_number"):
                new = clean_lot(new)
        except forms.ValidationError as exc:
            self.add_error("new_value", exc)
            return data
        short = f"Pause {pause_key.group(1)}" if pause_key else label
        if key != PAUSE_ADD and as_text(new) == as_text(old):
            self.add_error("new_value", f"{short} is already {as_text(old) or 'blank'}.")
            return data
        check = check_record(self._values_with(key, new))
        if check.errors:
            for messages in check.errors.values():
                for message in messages:
                    self.add_error("new_value", message)
            return data
        if pause_key and new is None:
            short = f"{short} removed"
        data.update(label=short, old=as_text(old), new=as_text(new), value=new)
        return data

    def _values_with(self, key: str, new) -> RecordValues:
        values = self.record.values(self.vials, self.pauses)
        if key == PAUSE_ADD:
            return dataclasses.replace(values, pauses=(*values.pauses, new))
        pause_key = _PAUSE_KEY.match(key)
        if pause_key:
            index = [p.position for p in self.pauses].index(int(pause_key.group(1)))
            pauses = list(values.pauses)
            if new is None:
                del pauses[index]
            else:
                pauses[index] = new
            return dataclasses.replace(values, pauses=tuple(pauses))
        if key.startswith("vial-"):
            _, position, attr = key.split("-", 2)
            vials = list(values.vials)
            index = [v.position for v in self.vials].index(int(position))
            vials[index] = dataclasses.replace(vials[index], **{attr: new})
            return dataclasses.replace(values, vials=tuple(vials))
        return dataclasses.replace(values, **{key: new})

    def applier(self):
        """Return a function that sets the cleaned new value on a (locked) record."""
        key, value = self.cleaned_data["field"], self.cleaned_data["value"]
        pause_key = _PAUSE_KEY.match(key)

        def apply(record: InfusionRecord) -> None:
            if key == PAUSE_ADD:
                last = record.pauses.order_by("-position").first()
                InfusionPause.objects.create(
                    record=record,
                    position=(last.position + 1) if last else 1,
                    started_at=value.started_at,
                    resumed_at=value.resumed_at,
                    reason=value.reason,
                )
            elif pause_key:
                pause = record.pauses.get(position=int(pause_key.group(1)))
                if value is None:
                    pause.delete()  # audited (django-auditlog); the amendment keeps the old values
                    # Number the remaining pauses 1..n again, as the record and its checks count them.
                    for number, rest in enumerate(record.pauses.order_by("position"), start=1):
                        if rest.position != number:
                            rest.position = number
                            rest.save(update_fields=["position"])
                else:
                    pause.started_at, pause.resumed_at, pause.reason = value.started_at, value.resumed_at, value.reason
                    pause.save()
            elif key.startswith("vial-"):
                _, position, attr = key.split("-", 2)
                vial = record.vials.get(position=int(position))
                setattr(vial, attr, value)
                vial.save()
            else:
                setattr(record, key, value)

        return apply


# --- Checking a claim as keyed in the billing system --------------------------------------------
