"""Forms for reminders: acknowledge/snooze, per-site routes, dashboard filters.

Forms validate and convert; the workflows in monitoring/reminders/sweep.py decide.
"""

from __future__ import annotations

from datetime import date, timedelta

from crispy_forms.helper import FormHelper
from django import forms

from accounts.access import users_at_sites
from accounts.models import Role, Site
from accounts.permissions import roles_for
from cases.models import Case
from common.wording import day_text
from monitoring.kinds import DrawKind
from monitoring.models import DEFAULT_ROUTES, ReminderKind

# The longest snooze [D] (product policy): escalation can wait for a rescheduled visit, not
# for a forgotten one.
MAX_SNOOZE_DAYS = 60


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='What is happening, for example "family rescheduled to Thursday".',
    )
    snoozed_until = forms.DateField(
        label="Pause escalation until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=(
            "Optional. The manager escalation waits until this date. Without one, a draw still "
            "overdue after its grace days is escalated once; a note written after an escalation "
            "stops its daily repeats."
        ),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 3:
            raise forms.ValidationError("Say in a few words why this draw is late.")
        return reason

    def clean_snoozed_until(self) -> date | None:
        value = self.cleaned_data.get("snoozed_until")
        if value is None:
            return None
        if value <= self.today:
            raise forms.ValidationError(f"Pick a date after today ({day_text(self.today)}).")
        if value > self.today + timedelta(days=MAX_SNOOZE_DAYS):
            raise forms.ValidationError(f"Escalation can be paused for at most {MAX_SNOOZE_DAYS} days.")
        return value


ROLE_CHOICES = [(role.value, role.label) for role in roles_for("receive_reminders")]


class RouteForm(forms.Form):
    """One site's routes: for each reminder kind, the roles that receive it."""

    def __init__(self, *args, site, current: dict[str, list[str]], **kwargs):
        super().__init__(*args, prefix=f"site-{site.pk}", **kwargs)
        self.site = site
        for kind, label in ReminderKind.choices:
            self.fields[kind] = forms.MultipleChoiceField(
                label=label,
                choices=ROLE_CHOICES,
                widget=forms.CheckboxSelectMultiple,
                # A kind the site has no rows for follows the defaults (reminder_recipients does too).
                initial=current.get(kind) or list(DEFAULT_ROUTES[kind]),
                error_messages={"required": "Pick at least one role, or nobody gets these reminders."},
            )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def routes(self) -> dict[str, list[str]]:
        return {kind: self.cleaned_data[kind] for kind, _ in ReminderKind.choices}


class DashboardFilterForm(forms.Form):
    """Dashboard filters from the query string. Invalid values are dropped by the view."""

    site = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my sites")
    coordinator = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any coordinator")
    payer = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any payer")
    kind = forms.ChoiceField(label="Draw", required=False, choices=[("", "Any draw")] + list(DrawKind.choices))
    min_days = forms.IntegerField(label="Days late, at least", required=False, min_value=0, max_value=365)

    def __init__(self, *args, site_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids).order_by("short_code")
        coordinators = users_at_sites(site_ids, Role.COORDINATOR).order_by("last_name", "first_name")
        self.fields["coordinator"].queryset = coordinators
        self.fields["coordinator"].label_from_instance = lambda u: u.get_full_name() or u.username
        # The payers of these sites' cases (billing.Payer, reached through Case.payer: monitoring
        # sits below billing and does not import it).
        payers = Case._meta.get_field("payer").related_model.objects
        self.fields["payer"].queryset = payers.filter(cases__site_id__in=site_ids).distinct().order_by("name")
        self.fields["min_days"].widget.attrs.update({"min": 0, "max": 365, "class": "form-control form-control-sm"})
        for name in ("site", "coordinator", "payer", "kind"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def valid_values(self) -> dict:
        """The values that passed validation (the others are ignored, with a message)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    def ignored_messages(self) -> list[str]:
        return [
            f"Ignored the “{self.fields[name].label or name.title()}” filter: {' '.join(errors)}"
            for name, errors in self.errors.items()
        ]
