"""Django admin for monitoring's reference data: protocol versions (read-only once any draw
uses them: a case keeps the version it started with) and reminder routes per site (scoped to
the administrator's own sites unless superuser). Every change is audited (monitoring.signals)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from accounts.admin import SiteScopedAdmin
from monitoring.inbox import admin as inbox_admin  # noqa: F401 (registers the inbox's admin pages)
from monitoring.models import ProtocolVersion, ReminderRoute
from monitoring.reminders.forms import ROLE_CHOICES


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "in_force", "window_days", "grace_days", "created_at", "draw_count")
    readonly_fields = ("created_at", "created_by")

    @admin.display(description="Draws using it")
    def draw_count(self, obj):
        return obj.draws.count()

    def _in_use(self, obj) -> bool:
        return obj is not None and obj.draws.exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._in_use(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._in_use(obj)

    def has_add_permission(self, request):
        # New versions are made on the protocol page (monitoring:protocol_new), which checks
        # the rows against the label's schedule.
        return False


class ReminderRouteForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, help_text="Users with this role at the site receive the kind.")

    class Meta:
        model = ReminderRoute
        fields = ["site", "kind", "role"]


@admin.register(ReminderRoute)
class ReminderRouteAdmin(SiteScopedAdmin):
    form = ReminderRouteForm
    list_display = ("site", "kind", "role")
    list_filter = ("site", "kind", "role")
