"""Django admin for billing's reference data: payers and their policies, reference prices and
support programs. The payer form is the same as the in-app one (billing.forms.PayerForm), so
the admin validates a policy exactly as the payer page does. Payers are shared by every site.
Every change is audited (billing.signals registers these models with django-auditlog)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import SiteScopedAdmin
from billing.forms import PayerForm, ReferencePriceForm, SupportProgramForm
from billing.models import ChargeItem, Payer, ReferencePrice, SiteBilling, SupportProgram


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    form = PayerForm
    list_display = (
        "name",
        "policy_reference",
        "pa_required",
        "cms_0057_impacted",
        "standard_decision_days",
        "outcomes_based_agreement",
        "titer_ceiling_denominator",
        "max_smn2_copies",
        "motor_assessment",
        "updated_at",
    )
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


class ChargeItemInline(admin.TabularInline):
    """The site's price list: one row per code with its revenue code and charge."""

    model = ChargeItem
    extra = 0
    max_num = len(ChargeItem.Code.choices)
    verbose_name = "price list line"
    verbose_name_plural = "Price list (chargemaster): J3399, 96365, 96366"


@admin.register(SiteBilling)
class SiteBillingAdmin(SiteScopedAdmin):
    """A site's billing settings and price list; an administrator sees only their own sites."""

    list_display = ("site", "tin", "type_of_bill_outpatient", "type_of_bill_inpatient", "updated_at")
    inlines = (ChargeItemInline,)
    fieldsets = (
        (None, {"fields": ("site", "tin", "taxonomy_code", "submitter_id")}),
        ("Billing address (837 loop 2010AA)", {"fields": ("street", "city", "state", "zip_code")}),
        ("Contact", {"fields": ("contact_name", "contact_phone")}),
        (
            "Institutional claim",
            {"fields": ("type_of_bill_outpatient", "type_of_bill_inpatient", "physician_bills_separately")},
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False
