"""Claim lines as keyed into the billing system, checked against the lines GeneGate built
(never stored), and the code helpers the claim pages use."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from billing.claims.rules import INSTITUTIONAL, PROFESSIONAL, parse_modifiers
from billing.codes import CPT_CODES, HCPCS_CODES, NDC_UNIT_QUALIFIERS, ndc_to_11


def code_type_for(code: str) -> str:
    return "CPT" if code in CPT_CODES or code[:1].isdigit() else "HCPCS"


def code_descriptor(code: str) -> str:
    info = HCPCS_CODES.get(code) or CPT_CODES.get(code)
    return info.descriptor if info else "Not in GeneGate's code tables"


class KeyedLineForm(forms.Form):
    """One service line as keyed in the billing system (checked, never stored)."""

    code = forms.CharField(label="HCPCS/CPT", max_length=5, required=False)
    modifiers = forms.CharField(label="Modifiers", max_length=20, required=False, help_text="e.g. JZ")
    units = forms.DecimalField(
        label="Units", min_value=Decimal("0.001"), max_digits=7, decimal_places=3, required=False
    )
    revenue_code = forms.CharField(label="Rev. code", max_length=4, required=False, help_text="UB-04 only")
    ndc = forms.CharField(label="NDC (N4)", max_length=14, required=False, help_text="11 digits or 5-3-2.")
    ndc_unit = forms.ChoiceField(
        label="NDC unit", choices=[("", "—")] + [(u, u) for u in sorted(NDC_UNIT_QUALIFIERS)], required=False
    )
    ndc_quantity = forms.DecimalField(
        label="NDC qty", min_value=Decimal("0.001"), max_digits=9, decimal_places=3, required=False
    )
    pos = forms.CharField(label="POS", max_length=2, required=False)

    def clean_modifiers(self):
        try:
            return parse_modifiers(self.cleaned_data.get("modifiers") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_revenue_code(self):
        code = (self.cleaned_data.get("revenue_code") or "").strip()
        if code and not re.fullmatch(r"\d{4}", code):
            raise forms.ValidationError("A revenue code is 4 digits, e.g. 0636.")
        return code

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip().upper()
        if code and not re.fullmatch(r"[A-Z0-9]{5}", code):
            raise forms.ValidationError("A HCPCS or CPT code has 5 letters or digits, e.g. J3399 or 96365.")
        return code

    def clean_ndc(self):
        text = "".join((self.cleaned_data.get("ndc") or "").split())
        if not text:
            return ""
        if re.fullmatch(r"\d{11}", text):
            return text
        try:
            return ndc_to_11(text)
        except ValueError:
            raise forms.ValidationError(
                "Enter the NDC as 11 digits (71894012002) or as on the label (71894-120-02)."
            ) from None

    def clean_pos(self):
        pos = (self.cleaned_data.get("pos") or "").strip()
        if pos and not re.fullmatch(r"\d{2}", pos):
            raise forms.ValidationError("A place of service is two digits, e.g. 21.")
        return pos

    def clean(self):
        data = super().clean()
        if data.get("code") and not data.get("units"):
            self.add_error("units", "Enter the units billed.")
        return data


KeyedLineFormSet = forms.formset_factory(KeyedLineForm, extra=0, max_num=8, absolute_max=8, validate_max=True)


class KeyedClaimForm(forms.Form):
    claim_type = forms.ChoiceField(
        label="Claim",
        choices=[(INSTITUTIONAL, "Institutional (UB-04 / 837I)"), (PROFESSIONAL, "Professional (CMS-1500 / 837P)")],
        required=False,
        help_text="Blank: the claim type of this case's setting.",
    )
    pa_number = forms.CharField(label="PA number (item 23 / FL 63)", max_length=60, required=False)
