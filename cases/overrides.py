"""Decisions against the rules (issue 15 item 2): one override model, one form step, one workflow.

A physician may go against a rule's recommendation: taper the steroid while the label's rule says
continue, sign an infusion record while a gate item is overridden, or mark a result flag reviewed
without a plan. Each needs an explicit override, never a single click:

1. The first post of the decision comes back with the override step (``OverrideStep``): a reason
   picked from the kind's list, free text of at least OVERRIDE_TEXT_MIN_LENGTH characters, a
   confirmation box and the physician's password entered again (as for signing). Nothing is
   recorded at the first step.
2. The second post records the decision and its ``ClinicalOverride`` row in one transaction
   (``override_record``), with the listed reason as it was shown, the free text, what was
   overridden, who and when. django-auditlog records it.
3. The case page, the packet (billing/packet.py), the claim summary (billing/claims/) and the
   managers' dashboard (monitoring/reminders/dashboard.py) read the rows alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from cases.models import Case, ClinicalOverride

OVERRIDE_TEXT_MIN_LENGTH = 20

# The listed reasons of each kind [D] (product policy: the common clinical grounds, then "other").
# The taper's list is monitoring's SteroidDecision.OverrideReason (its decisions store the code).
SIGN_OFF_REASONS: tuple[tuple[str, str], ...] = (
    ("clinical_urgency", "Waiting would harm the child more than the overridden item (e.g. progressing weakness)"),
    ("evidence_outside", "The item is met by evidence not yet in GeneGate (named in the explanation)"),
    ("specialist_advised", "A neuromuscular or hepatology specialist advised proceeding"),
    ("other", "Other clinical reason (explained below)"),
)
NO_PLAN_REASONS: tuple[tuple[str, str], ...] = (
    ("known_finding", "Known finding, already managed under an earlier plan"),
    ("managed_elsewhere", "Managed by another team (e.g. admitted, hepatology following)"),
    ("monitoring_ended", "Monitoring ended (family declined or care moved elsewhere)"),
    ("other", "Other clinical reason (explained below)"),
)


@dataclass(frozen=True)
class OverrideInput:
    """What the physician gave at the override step (OverrideStep.override_input)."""

    reason_code: str
    reason_label: str
    explanation: str


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def override_record(
    *, case: Case, kind: str, given: OverrideInput, subject: str, by, at: datetime | None = None
) -> ClinicalOverride:
    """Store one override (inside the caller's transaction, with the decision it belongs to).

    Refuses (ValueError) an override without a listed reason or without its free text: the
    form says so at the fields first, this keeps a caller that skips the form honest.
    """
    explanation = " ".join((given.explanation or "").split())
    if not given.reason_code or not given.reason_label:
        raise ValueError("An override needs a reason picked from the list.")
    if len(explanation) < OVERRIDE_TEXT_MIN_LENGTH:
        raise ValueError(f"Explain the override in at least {OVERRIDE_TEXT_MIN_LENGTH} characters.")
    return ClinicalOverride.objects.create(
        case=case,
        site_id=case.site_id,
        kind=kind,
        reason_code=given.reason_code[:40],
        reason_label=given.reason_label[:200],
        explanation=explanation,
        subject=subject[:500],
        by=by,
        by_name=_name(by),
        at=at or timezone.now(),
    )


def override_void(override: ClinicalOverride | None, *, by, reason: str, at: datetime | None = None) -> None:
    """Void an override with the entry it belongs to (that entry's reason); a voided one stays."""
    if override is None or override.voided_at is not None:
        return
    override.voided_at, override.voided_by, override.void_reason = at or timezone.now(), by, reason[:300]
    override.save(update_fields=["voided_at", "voided_by", "void_reason"])


class OverrideStep:
    """A form mixin (before ``forms.Form``): the override's second step.

    A form calls ``ask_for_override(message)`` from ``clean()`` when its decision goes against
    the rule and the post is not yet the second step: the fields are added, the page comes back
    with them (the hidden ``override_step`` says the next post is the second step) and nothing
    is saved. At the second step ``clean_override(cleaned)`` checks each field and says what is
    missing next to it; ``override_input()`` gives the workflow what was chosen.

    Subclasses set the reasons and the words. ``override_text_field`` names the free-text field:
    the mixin's own ``override_text``, or a field the form already has (the steroid decision's
    "Reason"). A form with its own ``password`` field (the signature) checks it itself.
    """

    override_reasons: tuple[tuple[str, str], ...] = ()
    override_reason_label = "Why go against the rule?"
    override_reason_missing = "Pick the reason for the override from the list."
    override_text_field = "override_text"
    override_text_label = "Explain the override"
    override_text_help = ""
    override_confirm_label = "I confirm this goes against the rule and I take responsibility for it."
    override_password_missing = "Re-enter your password to record the override."
    override_password_wrong = "That is not your password; the override was not recorded."

    needs_override = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and self.in_override_step():
            self.add_override_fields()

    def in_override_step(self) -> bool:
        return bool(self.data.get(self.add_prefix("override_step")))

    def add_override_fields(self) -> None:
        if "override_reason" in self.fields:
            return
        self.needs_override = True
        self.fields["override_step"] = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)
        self.fields["override_reason"] = forms.ChoiceField(
            label=self.override_reason_label, choices=[("", "—"), *self.override_reasons], required=False
        )
        if self.override_text_field == "override_text":
            self.fields["override_text"] = forms.CharField(
                label=self.override_text_label,
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=self.override_text_help or f"At least {OVERRIDE_TEXT_MIN_LENGTH} characters, in your words.",
            )
        self.fields["override_confirm"] = forms.BooleanField(label=self.override_confirm_label, required=False)
        self._override_checks_password = "password" not in self.fields
        if self._override_checks_password:
            self.fields["password"] = forms.CharField(
                label="Your password",
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                strip=False,
                required=False,
                help_text="As for signing: the override is recorded in your name.",
            )

    def ask_for_override(self, message: str):
        """First step: add the fields, make the page's next post the second step, and refuse."""
        self.add_override_fields()
        self.data = self.data.copy()
        self.data[self.add_prefix("override_step")] = "1"
        raise forms.ValidationError(message, code="override_needed")

    def clean_override(self, cleaned: dict) -> None:
        """Second step: every field is needed; each missing one is said next to it."""
        if cleaned.get("override_reason") not in dict(self.override_reasons):
            self.add_error("override_reason", self.override_reason_missing)
        text = " ".join((cleaned.get(self.override_text_field) or "").split())
        if len(text) < OVERRIDE_TEXT_MIN_LENGTH:
            self.add_error(
                self.override_text_field, f"Explain the override in at least {OVERRIDE_TEXT_MIN_LENGTH} characters."
            )
        if not cleaned.get("override_confirm"):
            self.add_error("override_confirm", "Tick the box to confirm the override.")
        if not self._override_checks_password:
            return
        password = cleaned.get("password") or ""
        if not password:
            self.add_error("password", self.override_password_missing)
            return
        user = self.request.user
        # Through the authentication backends, so axes counts and locks out wrong passwords.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            self.add_error("password", self.override_password_wrong)

    def override_input(self) -> OverrideInput | None:
        """The override as given (after a valid second step), else None."""
        if not self.needs_override or self.errors:
            return None
        code = self.cleaned_data.get("override_reason") or ""
        if code not in dict(self.override_reasons):
            return None
        return OverrideInput(
            reason_code=code,
            reason_label=dict(self.override_reasons)[code],
            explanation=" ".join((self.cleaned_data.get(self.override_text_field) or "").split()),
        )
