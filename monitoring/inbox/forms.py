"""Forms of the results inbox: a file upload (HL7, FHIR or CSV) and the review's draw pick."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from accounts.access import sites_for
from common.wording import day_text
from monitoring.inbox.matching import KIND_FOR_ANALYTE
from monitoring.inbox.models import InboxSource, Laboratory
from monitoring.kinds import kind_label
from monitoring.models import Draw, DrawState

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# How far from the collection date a review offers draws of another patient (no match).
REVIEW_DAYS = 35


class UploadForm(forms.Form):
    source = forms.ChoiceField(label="Format", choices=InboxSource.choices)
    site = forms.ModelChoiceField(label="Receiving site", queryset=None)
    laboratory = forms.ModelChoiceField(
        label="Laboratory (CSV column mapping)", queryset=None, required=False, help_text="Required for CSV files."
    )
    file = forms.FileField(
        label="File",
        help_text="HL7: one or many ORU^R01 messages. FHIR: one Bundle (JSON). CSV: the lab portal's export. At most 5 MB.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        sites = sites_for(user)
        self.fields["site"].queryset = sites
        self.fields["laboratory"].queryset = Laboratory.objects.filter(site__in=sites, active=True)
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it.")
        data = upload.read()
        if not data.strip():
            raise forms.ValidationError("The file is empty.")
        return data

    def clean(self):
        cleaned = super().clean()
        site, lab, source = cleaned.get("site"), cleaned.get("laboratory"), cleaned.get("source")
        if source == InboxSource.CSV and lab is None:
            self.add_error("laboratory", "Choose the laboratory whose column mapping reads this file.")
        if site is not None and lab is not None and lab.site_id != site.pk:
            self.add_error("laboratory", "This laboratory sends to another site.")
        if source in (InboxSource.FHIR, InboxSource.CSV) and "file" in cleaned:
            try:
                cleaned["text"] = cleaned["file"].decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file is not UTF-8 text; export it as UTF-8.")
        return cleaned


def _draw_label(draw: Draw) -> str:
    patient = draw.case.patient
    return (
        f"{patient.mrn} · {patient.initials} · {kind_label(draw.kind)} day {draw.day} "
        f"(due {day_text(draw.due_on)}; {draw.get_state_display().lower()})"
    )


class ReviewForm(forms.Form):
    """One draw per kind the message's results need (liver panel, platelets, troponin-I):
    the matched patient's draws, or, with no patient match, the site's draws near the
    collection date."""

    def __init__(self, *args, message, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message
        analytes = [line["analyte"] for line in message.details.get("lines", [])]
        self.kinds = sorted({KIND_FOR_ANALYTE[a] for a in analytes if a in KIND_FOR_ANALYTE})
        draws = Draw.objects.filter(site=message.site).exclude(state=DrawState.MISSED)
        if message.case_id:
            draws = draws.filter(case_id=message.case_id)
        elif message.collected_at:
            on = message.collected_at.date()
            draws = draws.filter(
                due_on__gte=on - timedelta(days=REVIEW_DAYS), due_on__lte=on + timedelta(days=REVIEW_DAYS)
            )
        draws = draws.select_related("case__patient").order_by("case__patient__mrn", "due_on")
        for kind in self.kinds:
            field = forms.ModelChoiceField(
                label=f"Draw for the {kind_label(kind).lower()}", queryset=draws.filter(kind=kind)
            )
            field.label_from_instance = _draw_label
            self.fields[f"draw_{kind}"] = field

    def clean(self):
        cleaned = super().clean()
        chosen = {kind: cleaned.get(f"draw_{kind}") for kind in self.kinds}
        if not self.kinds:
            raise forms.ValidationError("This message has no results to assign.")
        if all(chosen.values()) and len({d.case_id for d in chosen.values()}) != 1:
            raise forms.ValidationError("Pick draws of one patient.")
        cleaned["chosen"] = chosen
        return cleaned
