"""Billing forms: they validate and convert input; the workflows in billing/pa.py and
billing/packet.py decide what happens."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone

from billing import pa_rules
from billing.checklist import EVIDENCE, as_lines, parse_items, proof_word
from billing.claims.rules import parse_modifiers
from billing.codes import POS_CODES
from billing.denials import DENIAL_CHOICES
from billing.models import (
    MOTOR_MAX_AGE_DAYS_MAX,
    WBC_LIMIT_MAX,
    WINDOW_MAX_DAYS,
    WINDOW_MIN_DAYS,
    OneGeneEnrollment,
    Payer,
    PriorAuthorization,
    ReferencePrice,
    SupportProgram,
)
from billing.packet_documents import DOCUMENT_CHOICES, suggested_document_choices
from billing.pas.client import credential
from common.dates import EXPIRY_AHEAD_DAYS, PLAN_AHEAD_DAYS, PRODUCT_APPROVED_ON, days_ahead, range_problem

POS_CHOICES = [(code, f"{code} {info.descriptor}") for code, info in sorted(POS_CODES.items())]
MAX_CHECKLIST_ITEMS = 30
MAX_CHECKLIST_ITEM_CHARS = 200
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _helper(submit_label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", submit_label))
    return helper


def _in_range(value, what: str, *, ahead_days: int = 0):
    """Billing dates for Zolgensma start at its approval (May 24, 2019) and reach at most
    ``ahead_days`` past today (issue 13 item 7: a 9999 date overflowed date arithmetic)."""
    problem = range_problem(
        value, what=what, earliest=PRODUCT_APPROVED_ON, latest=days_ahead(timezone.localdate(), ahead_days)
    )
    if problem:
        raise forms.ValidationError(problem)
    return value


def _lines(text: str, *, what: str, max_items: int, max_chars: int) -> list[str]:
    items = [line.strip().lstrip("-•* ").strip() for line in text.splitlines()]
    items = [i for i in items if i]
    if len(items) > max_items:
        raise forms.ValidationError(f"At most {max_items} {what}; you entered {len(items)}.")
    too_long = [i for i in items if len(i) > max_chars]
    if too_long:
        raise forms.ValidationError(f"Keep each line under {max_chars} characters: “{too_long[0][:40]}…” is longer.")
    return items


MAX_MILESTONE_MONTH = 60
MONTH_TEXT = re.compile(r"[0-9]{1,2}")  # ASCII digits only: "²".isdigit() is true, int("²") fails


class PayerForm(forms.ModelForm):
    """A payer's policy. Windows are whole days 1-120; POS codes come from billing/codes.py."""

    allowed_pos = forms.MultipleChoiceField(
        label="Allowed places of service",
        choices=POS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        # docs/domain.md §6c, §11.10
        help_text="Payer site-of-care rule (CMS POS code set). GeneGate's default allows 21, 22 and 19.",
    )
    milestone_months = forms.CharField(
        label="Outcome milestone months",
        required=False,
        max_length=200,
        help_text=(
            "Months after the infusion at which the outcomes-based agreement assesses the child, "
            "e.g. 6, 12, 24 (up to 60). Empty: 6, 12, 24, 36, 60 (GeneGate default)."
        ),
    )
    documentation_checklist = forms.CharField(
        label="Documentation checklist",
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="One item per line, starting with what in the packet proves it and a colon, e.g. "
        "“titer: Anti-AAV9 titer ≤ 1:50 by ELISA”. The packet prints each item ☑ met or ☒ not met. "
        "Proofs: " + "; ".join(f"{proof_word(key)} ({e.label})" for key, e in EVIDENCE.items()) + ".",
    )
    pas_endpoint = forms.URLField(
        label=Payer._meta.get_field("pas_endpoint").verbose_name.capitalize(),
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=Payer._meta.get_field("pas_endpoint").help_text,
    )
    drug_modifiers = forms.CharField(
        label="Modifiers the payer requires on J3399",
        required=False,
        max_length=20,
        help_text="The payer's own drug-line modifiers, e.g. KX; blank for none. JW/JZ come from the rule above.",
    )

    class Meta:
        model = Payer
        fields = [
            "name",
            "policy_reference",
            "pa_required",
            "outcomes_based_agreement",
            "oba_terms",
            "oba_note",
            "key_documentation",
            "documentation_checklist",
            "allowed_pos",
            "require_certified_center",
            "titer_ceiling_denominator",
            "titer_max_age_days",
            "weight_max_age_days",
            "labs_max_age_days",
            "age_wording",
            "max_smn2_copies",
            "motor_assessment",
            "motor_assessment_max_age_days",
            "symptom_onset_before_months",
            "max_niv_hours_per_day",
            "wbc_min",
            "wbc_max",
            "require_no_active_infection",
            "accepts_96413",
            "milestone_months",
            "payer_id",
            "claim_filing_indicator",
            "inpatient_drug_carve_out",
            "ndc_unit",
            "ndc_quantity",
            "drug_modifier_rule",
            "drug_modifiers",
            "modifier_rule_source",
            "pas_endpoint",
            "pas_token_env",
            "cms_0057_impacted",
            "standard_decision_days",
            "expedited_decision_hours",
            "appeal_window_days",
            "source",
        ]
        widgets = {
            "oba_terms": forms.Textarea(attrs={"rows": 3}),
            "oba_note": forms.Textarea(attrs={"rows": 2}),
            "key_documentation": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["documentation_checklist"] = "\n".join(as_lines(self.instance.documentation_checklist))
            self.initial["milestone_months"] = ", ".join(str(m) for m in self.instance.milestone_months or [])
            self.initial["drug_modifiers"] = " ".join(self.instance.drug_modifiers or [])
        for name in ("titer_max_age_days", "weight_max_age_days", "labs_max_age_days"):
            field = self.fields[name]
            field.min_value, field.max_value = WINDOW_MIN_DAYS, WINDOW_MAX_DAYS
            field.widget.attrs.update(min=WINDOW_MIN_DAYS, max=WINDOW_MAX_DAYS)
            field.help_text = f"Whole days, {WINDOW_MIN_DAYS} to {WINDOW_MAX_DAYS}, before the infusion date."
        self.fields["titer_ceiling_denominator"].help_text = "N in 1:N; most payers use 50 (e.g. Aetna CPB 0953)."
        self.fields["titer_ceiling_denominator"].max_value = 100000
        # The payer's own criteria: blank = not required; each one set is judged by the gate and
        # printed in the packet, citing the policy id above.
        for name, low, high in (
            ("max_smn2_copies", 1, 8),
            ("motor_assessment_max_age_days", 1, MOTOR_MAX_AGE_DAYS_MAX),
            ("symptom_onset_before_months", 1, 24),
            ("max_niv_hours_per_day", 0, 24),
        ):
            self.fields[name].widget.attrs.update(min=low, max=high)
        for name in ("wbc_min", "wbc_max"):
            self.fields[name].widget.attrs.update(min=0, max=WBC_LIMIT_MAX, step="0.1")
        env = self.instance.pas_token_env if self.instance.pk else ""
        if env:
            # Whether the server holds the credential, never its value (billing/pas/client.py).
            held = "is set" if credential(env) else "is NOT set"
            self.fields["pas_token_env"].help_text += f" On this server, {env} {held}."
        self.helper = _helper("Save payer")

    def clean_milestone_months(self) -> list[int]:
        """Whole months 1-60 (outcomes-based agreements run up to 5 years, docs/domain.md §8), each
        once; stored in order. Empty keeps the card's defaults."""
        text = (self.cleaned_data.get("milestone_months") or "").strip()
        if not text:
            return []
        months = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not MONTH_TEXT.fullmatch(part) or not 1 <= int(part) <= MAX_MILESTONE_MONTH:
                raise forms.ValidationError(
                    f"“{part[:20]}” is not a month: enter whole months from 1 to {MAX_MILESTONE_MONTH}, e.g. 6, 12, 24."
                )
            months.append(int(part))
        if len(set(months)) != len(months):
            raise forms.ValidationError("Each month once, please: a month appears twice.")
        return sorted(months)

    def clean_drug_modifiers(self) -> list[str]:
        try:
            return list(parse_modifiers(self.cleaned_data.get("drug_modifiers") or ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("cms_0057_impacted"):
            # The federal rule sets the clock: a payer's own numbers would be a second, conflicting one.
            for name in ("standard_decision_days", "expedited_decision_hours"):
                if data.get(name) is not None:
                    self.add_error(
                        name,
                        "Leave blank for a payer impacted by the federal rule: it decides within 72 hours "
                        "(expedited) or 7 calendar days (standard).",
                    )
        rule, source = data.get("drug_modifier_rule"), (data.get("modifier_rule_source") or "").strip()
        if (rule and rule != "none" or data.get("drug_modifiers")) and not source:
            self.add_error("modifier_rule_source", "Name the policy the modifier rule comes from.")
        return data

    def clean_documentation_checklist(self) -> list[dict]:
        lines = _lines(
            self.cleaned_data.get("documentation_checklist") or "",
            what="checklist items",
            max_items=MAX_CHECKLIST_ITEMS,
            max_chars=MAX_CHECKLIST_ITEM_CHARS,
        )
        try:
            return parse_items(lines)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_allowed_pos(self) -> list[str]:
        codes = self.cleaned_data["allowed_pos"]
        unknown = [c for c in codes if c not in POS_CODES]
        if unknown:  # the choices already refuse these; kept so the rule is stated in one place
            raise forms.ValidationError(f"Unknown place of service: {', '.join(unknown)}.")
        return sorted(codes, key=lambda c: ["21", "22", "19"].index(c) if c in ("21", "22", "19") else 9)


class PADetailsForm(forms.ModelForm):
    """Details billing keeps on the PA besides its status (the status changes through PAMoveForm)."""

    class Meta:
        model = PriorAuthorization
        fields = ["reference_number", "auth_number", "planned_infusion_minutes", "expedited", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            # docs/domain.md §6b, §11.8
            "planned_infusion_minutes": "The FDA label's run is 60 minutes (§2.1). Over 90 minutes adds CPT 96366 "
            "(AMA CPT instructions).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["planned_infusion_minutes"].widget.attrs.update(min=16, max=600)
        self.helper = _helper("Save details")


class PAMoveForm(forms.Form):
    """One status change. Which moves exist is billing/pa_rules.py's; this form checks that
    what the move carries is present and well formed."""

    to = forms.ChoiceField(widget=forms.HiddenInput)
    expected_status = forms.CharField(widget=forms.HiddenInput)
    on = forms.DateField(label="Date", widget=DATE_WIDGET, help_text="The day it happened (e.g. the decision date).")
    reference_number = forms.CharField(label="Payer reference number", max_length=60, required=False)
    auth_number = forms.CharField(label="Authorization number", max_length=60, required=False)
    approved_units = forms.IntegerField(
        label="Approved units (J3399)",
        min_value=1,
        max_value=1,
        initial=1,
        required=False,
        help_text="J3399 is always 1 unit (CMS HCPCS: per treatment).",  # docs/domain.md §6a
    )
    valid_from = forms.DateField(widget=DATE_WIDGET, required=False)
    valid_through = forms.DateField(widget=DATE_WIDGET, required=False)
    denial_reason = forms.ChoiceField(choices=[("", "—")] + list(DENIAL_CHOICES), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)

    # Fields each target status needs (and shows).
    FIELDS_FOR = {
        pa_rules.SUBMITTED: ("on", "reference_number", "note"),
        pa_rules.PENDED: ("on", "note"),
        pa_rules.APPROVED: ("on", "auth_number", "approved_units", "valid_from", "valid_through", "note"),
        pa_rules.DENIED: ("on", "denial_reason", "note"),
        pa_rules.APPEALED: ("on", "note"),
    }
    REQUIRED_FOR = {
        pa_rules.PENDED: ("note",),
        pa_rules.APPROVED: ("auth_number", "approved_units", "valid_from", "valid_through"),
        pa_rules.DENIED: ("denial_reason",),
    }

    def __init__(self, *args, to: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s, s) for s in pa_rules.STATUSES]
        self.initial.setdefault("to", to)
        self.initial.setdefault("on", timezone.localdate())
        self.initial.setdefault("approved_units", 1)
        shown = self.FIELDS_FOR.get(to, ("on", "note"))
        for name in list(self.fields):
            if name not in shown and name not in ("to", "expected_status"):
                del self.fields[name]
        for name in self.REQUIRED_FOR.get(to, ()):
            self.fields[name].required = True
        if to == pa_rules.PENDED:
            self.fields["note"].label = "What the payer asked for"
        self.helper = _helper("Record")

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError("This date is in the future; record what has happened.")
        return _in_range(on, "This date")

    def clean_valid_from(self):
        return _in_range(self.cleaned_data["valid_from"], "Valid-from", ahead_days=PLAN_AHEAD_DAYS)

    def clean_valid_through(self):
        return _in_range(self.cleaned_data["valid_through"], "Valid-through", ahead_days=EXPIRY_AHEAD_DAYS)

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_through")
        if start and end and end < start:
            self.add_error("valid_through", "Valid-through must be on or after valid-from.")
        return data


class LetterForm(forms.Form):
    """The letter of medical necessity: its text, the version it was opened at, and for a
    signature the physician's password (checked through the authentication backends, as for the
    infusion record, so repeated wrong passwords lock the account)."""

    body = forms.CharField(
        label="Letter text",
        widget=forms.Textarea(attrs={"rows": 22, "class": "font-monospace"}),
        help_text="Paragraphs are separated by a blank line. The facts table and your signature block are added "
        "from the case; correct facts on the case itself.",
        strip=False,
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    password = forms.CharField(
        label="Your password (to sign)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    action = forms.ChoiceField(choices=[("save", "Save"), ("sign", "Sign")], widget=forms.HiddenInput, required=False)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        data = super().clean()
        if self.data.get("sign") is not None or data.get("action") == "sign":
            data["action"] = "sign"
            password = data.get("password") or ""
            user = self.request.user
            if not password:
                self.add_error("password", "Enter your password to sign; your text was not saved.")
            elif authenticate(self.request, username=user.get_username(), password=password) != user:
                self.add_error("password", "That is not your password; the letter was not signed or saved.")
        else:
            data["action"] = "save"
        return data


class PacketForm(forms.Form):
    """Generate a packet: draft or final, and for each current document of the case whether it is
    appended or left out and why (issue 17 item 6). ``documents``: the case's current documents,
    newest first, as the panel lists them."""

    final = forms.TypedChoiceField(
        choices=[("0", "Draft"), ("1", "Final")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = list(documents)
        suggested = suggested_document_choices(self.documents)
        for doc in self.documents:
            self.fields[f"doc-{doc.pk}"] = forms.ChoiceField(
                label=f"{doc.get_kind_display()}, {doc.original_name}",
                choices=DOCUMENT_CHOICES,
                initial=suggested[doc.pk],
                required=False,
            )

    def clean(self):
        cleaned = super().clean()
        posted = {key for key in self.data if key.startswith("doc-")}
        listed = {f"doc-{doc.pk}" for doc in self.documents}
        if posted - listed:
            raise forms.ValidationError(
                "A document in the list was voided or removed since the page was opened; nothing was "
                "generated. Check the documents and generate again."
            )
        if posted and listed - posted:
            raise forms.ValidationError(
                "A document was uploaded since the page was opened; nothing was generated. Choose "
                "whether to append it and generate again."
            )
        return cleaned

    def document_choices(self) -> dict[int, str]:
        """Document id → APPEND or a reason to leave it out; the suggestion where nothing was posted."""
        suggested = suggested_document_choices(self.documents)
        return {doc.pk: self.cleaned_data.get(f"doc-{doc.pk}") or suggested[doc.pk] for doc in self.documents}

    def rows(self):
        """(document, bound field) pairs for the panel's table."""
        return [(doc, self[f"doc-{doc.pk}"]) for doc in self.documents]


class ReferencePriceForm(forms.ModelForm):
    class Meta:
        model = ReferencePrice
        fields = ["code", "kind", "amount", "effective_on", "note", "source"]
        widgets = {"effective_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = "US dollars, per treatment."
        self.helper = _helper("Save price")

    def clean_effective_on(self):
        value = self.cleaned_data["effective_on"]
        if self.instance.pk and self.instance.effective_on == value:
            return value
        return _in_range(value, "The effective date", ahead_days=PLAN_AHEAD_DAYS)


class SupportProgramForm(forms.ModelForm):
    services = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text="One per line.")

    class Meta:
        model = SupportProgram
        fields = ["name", "phone", "web", "services", "notes", "source", "order"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["services"] = "\n".join(self.instance.services or [])
        self.helper = _helper("Save program")

    def clean_services(self) -> list[str]:
        return _lines(self.cleaned_data.get("services") or "", what="services", max_items=20, max_chars=120)


class OneGeneEnrollmentForm(forms.ModelForm):
    services_requested = forms.MultipleChoiceField(
        label="Services requested", widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = OneGeneEnrollment
        fields = ["enrolled_on", "reference", "services_requested", "notes"]
        widgets = {"enrolled_on": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, services: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services_requested"].choices = [(s, s) for s in services]
        self.helper = _helper("Save enrollment")

    def clean_enrolled_on(self):
        day = self.cleaned_data["enrolled_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The enrollment date cannot be in the future.")
        if self.instance.pk and self.instance.enrolled_on == day:
            return day
        return _in_range(day, "The enrollment date")
