"""Django admin for the results inbox: laboratories (local codes, CSV mapping), FHIR endpoint
tokens (issued here, shown once, stored hashed, revoked not deleted) and a read-only view of
messages, for administrators (coordinators use the inbox page). Scoped to the admin's sites."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from accounts.admin import SiteScopedAdmin
from monitoring.inbox import tokens
from monitoring.inbox.csvfile import mapping_problems
from monitoring.inbox.models import InboxMessage, InboxToken, Laboratory


class LaboratoryForm(forms.ModelForm):
    class Meta:
        model = Laboratory
        fields = [
            "site",
            "name",
            "hl7_sending_facility",
            "local_codes",
            "csv_mapping",
            "csv_datetime_format",
            "csv_date_format",
            "active",
        ]

    def clean_csv_mapping(self):
        mapping = self.cleaned_data.get("csv_mapping") or {}
        problems = mapping_problems(mapping) if mapping else []
        if problems:
            raise forms.ValidationError(problems)
        return mapping

    def clean_local_codes(self):
        codes = self.cleaned_data.get("local_codes") or {}
        if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
            raise forms.ValidationError(
                'Local codes are an object of code → LOINC code or analyte, e.g. {"ALT01": "1742-6"}.'
            )
        return codes


@admin.register(Laboratory)
class LaboratoryAdmin(SiteScopedAdmin):
    form = LaboratoryForm
    list_display = ("name", "site", "hl7_sending_facility", "active")
    list_filter = ("site", "active")
    search_fields = ("name", "hl7_sending_facility")


@admin.register(InboxToken)
class InboxTokenAdmin(SiteScopedAdmin):
    list_display = ("label", "site", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    list_filter = ("site",)
    fields = ("site", "label", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request, obj=None):
        # An issued token keeps its site and label: issue a new one instead.
        return (*self.readonly_fields, "site", "label") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        secret = tokens.issue(obj, by=request.user)
        messages.warning(
            request,
            f"Token for {obj.site.short_code}: {secret} — copy it now; it is stored hashed and will not be shown again.",
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail keeps who used which token

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset):
        for token in queryset:
            tokens.revoke(token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(InboxMessage)
class InboxMessageAdmin(SiteScopedAdmin):
    """Read-only: the outcome of every message, without its raw payload."""

    list_display = ("pk", "received_at", "site", "source", "sender", "status")
    list_filter = ("status", "source", "site")
    fields = ("site", "source", "laboratory", "sender", "control_id", "status", "reason", "received_at", "processed_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
