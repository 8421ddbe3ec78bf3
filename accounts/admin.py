"""Django admin for sites and people: a clinic's administrator adds a treatment site, a staff
member, their role and the sites they work at in the browser.

Scoping: a superuser sees every site; any other staff user with admin access sees and edits only
the sites they belong to (and the memberships of those sites). Every change is in the audit
trail: Site and Membership are registered with django-auditlog (accounts.signals), whose
middleware records the acting user.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.access import user_site_ids
from accounts.models import Membership, PrescriberProfile, Site


class SiteScopedAdmin(admin.ModelAdmin):
    """Limit the change list and every object view to the user's own sites (404 elsewhere:
    the admin answers a missing object the same way)."""

    site_field = "site"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = f"{self.site_field}__in" if self.site_field else "pk__in"
        return qs.filter(**{lookup: user_site_ids(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Site and not request.user.is_superuser:
            kwargs["queryset"] = Site.objects.filter(pk__in=user_site_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Site)
class SiteAdmin(SiteScopedAdmin):
    site_field = ""
    list_display = (
        "name",
        "short_code",
        "npi",
        "tin",
        "phone",
        "fax",
        "place_of_service",
        "certified_center",
        "timezone",
        "escalation_repeat_days",
    )
    search_fields = ("name", "short_code", "npi")

    def has_add_permission(self, request):
        # A new treatment center is a deployment decision: only a superuser adds one.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        # Sites carry patients, cases and audit history: they are never deleted here.
        return False


@admin.register(Membership)
class MembershipAdmin(SiteScopedAdmin):
    list_display = ("user", "user_full_name", "site", "roles")
    list_filter = ("site",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "site__name")
    autocomplete_fields = ("user",)

    @admin.display(description="Name")
    def user_full_name(self, obj):
        return obj.user.get_full_name()

    @admin.display(description="Role")
    def roles(self, obj):
        return ", ".join(sorted(group.name for group in obj.user.groups.all())) or "no role"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "site").prefetch_related("user__groups")


class MembershipInline(admin.TabularInline):
    """A staff member's sites, on the user's own admin page beside their role (group)."""

    model = Membership
    extra = 1
    verbose_name = "site membership"
    verbose_name_plural = "Sites this person works at"


User = get_user_model()


class PrescriberProfileInline(admin.StackedInline):
    """A physician's individual NPI, specialty and credentials, printed with their signature on a
    letter of medical necessity."""

    model = PrescriberProfile
    extra = 0
    max_num = 1
    verbose_name = "prescriber identifiers"
    verbose_name_plural = "Prescriber identifiers (physicians who sign letters of medical necessity)"


class StaffAdmin(UserAdmin):
    inlines = (MembershipInline, PrescriberProfileInline)
    list_display = ("username", "first_name", "last_name", "email", "is_active", "role_names")

    @admin.display(description="Role")
    def role_names(self, obj):
        return ", ".join(sorted(group.name for group in obj.groups.all())) or "—"

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("groups")
        if request.user.is_superuser:
            return qs
        return qs.filter(memberships__site_id__in=user_site_ids(request.user)).distinct()


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffAdmin)
