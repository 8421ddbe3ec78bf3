"""Django admin for billing's reference data: payers and their policies, reference prices and
support programs. The payer form is the same as the in-app one (billing.forms.PayerForm), so
the admin validates a policy exactly as the payer page does. Payers are shared by every site.
Every change is audited (billing.signals registers these models with django-auditlog)."""

from __future__ import annotations

from django.contrib import admin

from billing.forms import PayerForm, ReferencePriceForm, SupportProgramForm
from billing.models import Payer, ReferencePrice, SupportProgram


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    form = PayerForm
    list_display = ("name", "pa_required", "outcomes_based_agreement", "titer_ceiling_denominator", "updated_at")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        # A payer named on a case or PA cannot go (PROTECT); none is deleted from here.
        return False


@admin.register(ReferencePrice)
class ReferencePriceAdmin(admin.ModelAdmin):
    form = ReferencePriceForm


@admin.register(SupportProgram)
class SupportProgramAdmin(admin.ModelAdmin):
    form = SupportProgramForm
