"""Infusion-day forms. They validate and convert; cases.infusion.rules decides what is refused."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, time
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import authenticate

from cases.infusion.models import OVERRIDE_REASON_MIN_LENGTH, InfusionRecord, InfusionVial
from cases.infusion.rules import RecordCheck, RecordValues, VialValues, check_record
from common.wording import plain

AMENDMENT_REASON_MIN_LENGTH = 10
WEIGHT_INPUT_MAX_KG = Decimal("60")  # sanity bound on input, not a clinical rule
_LOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*$")


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


def clean_lot(value: str) -> str:
    value = value.strip()
    if value and not _LOT.match(value):
        raise forms.ValidationError("A lot number has letters, digits and - / . only, as printed on the vial.")
    return value


class InfusionRecordForm(forms.ModelForm):
    """The record's own fields. Vials come in VialFormSet; ``apply_rules`` judges both together."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
        if self.instance.pk and "version" not in self.initial:
            self.initial["version"] = self.instance.version

    def clean_weight_kg(self):
        return clean_weight(self.cleaned_data.get("weight_kg"))

    def clean_kit_ndc(self):
        return "".join((self.cleaned_data.get("kit_ndc") or "").split())

    def values(self, vials: tuple[VialValues, ...]) -> RecordValues:
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
        )


class VialForm(forms.Form):
    size_ml = forms.ChoiceField(label="Size", choices=[("", "—")] + list(InfusionVial.Size.choices), required=False)
    lot_number = forms.CharField(label="Lot number", max_length=40, required=False)
    expires_on = forms.DateField(label="Expiry", required=False, widget=DateInput())

    def clean_lot_number(self):
        return clean_lot(self.cleaned_data.get("lot_number") or "")

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("size_ml") or data.get("lot_number") or data.get("expires_on"))


VialFormSet = forms.formset_factory(VialForm, extra=0, max_num=14, absolute_max=14, validate_max=True)


def vial_rows(formset) -> list[tuple[int, VialForm]]:
    """The (1-based position, form) of every vial row that has something in it."""
    rows = [form for form in formset.forms if form.is_valid() and not form.is_blank()]
    return list(enumerate(rows, start=1))


def apply_rules(form: InfusionRecordForm, formset) -> RecordCheck | None:
    """Run cases.infusion.rules.check_record on valid forms and put refusals next to the fields.

    Returns the check (warnings and what signing still needs), or None when a field is invalid.
    """
    if not (form.is_valid() and formset.is_valid()):
        return None
    rows = vial_rows(formset)
    vials = tuple(
        VialValues(
            size_ml=Decimal(f.cleaned_data["size_ml"]) if f.cleaned_data.get("size_ml") else None,
            lot_number=f.cleaned_data.get("lot_number") or "",
            expires_on=f.cleaned_data.get("expires_on"),
        )
        for _, f in rows
    )
    check = check_record(form.values(vials))
    for name, messages in check.errors.items():
        for message in messages:
            if name.startswith("vial-"):
                index = int(name.split("-")[1])
                rows[index - 1][1].add_error(None, message)
            elif name == "vials":
                form.add_error(None, message)
            else:
                form.add_error(name, message)
    return None if check.errors else check


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


class SignForm(forms.Form):
    """The physician re-enters their password to sign."""

    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), strip=False
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.helper = _helper()

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
    return str(value)


def amendable_fields(record: InfusionRecord, vials) -> dict[str, tuple[str, forms.Field, object]]:
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
    return out


class AmendmentForm(forms.Form):
    field = forms.ChoiceField(label="Field to amend")
    new_value = forms.CharField(
        label="Corrected value",
        max_length=2000,
        required=False,
        help_text="Dates as YYYY-MM-DD, times as HH:MM, numbers without units.",
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

    def __init__(self, *args, record: InfusionRecord, vials, **kwargs):
        super().__init__(*args, **kwargs)
        self.record, self.vials = record, list(vials)
        self.amendable = amendable_fields(record, self.vials)
        self.fields["field"].choices = [(k, label) for k, (label, _f, _v) in self.amendable.items()]
        self.helper = _helper()

    def clean(self):
        data = super().clean()
        key = data.get("field")
        if not key or "new_value" not in data or self.errors:
            return data
        label, converter, old = self.amendable[key]
        raw = data["new_value"]
        try:
            new = converter.clean(raw)
            if key == "weight_kg":
                new = clean_weight(new)
            elif key.endswith("lot_number"):
                new = clean_lot(new)
        except forms.ValidationError as exc:
            self.add_error("new_value", exc)
            return data
        if as_text(new) == as_text(old):
            self.add_error("new_value", f"{label} is already {as_text(old) or 'blank'}.")
            return data
        check = check_record(self._values_with(key, new))
        if check.errors:
            for messages in check.errors.values():
                for message in messages:
                    self.add_error("new_value", message)
            return data
        data.update(label=label, old=as_text(old), new=as_text(new), value=new)
        return data

    def _values_with(self, key: str, new) -> RecordValues:
        values = self.record.values(self.vials)
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

        def apply(record: InfusionRecord) -> None:
            if key.startswith("vial-"):
                _, position, attr = key.split("-", 2)
                vial = record.vials.get(position=int(position))
                setattr(vial, attr, value)
                vial.save()
            else:
                setattr(record, key, value)

        return apply


# --- Checking a claim as keyed in the billing system --------------------------------------------
