"""Reminder views: acknowledge/snooze a late draw, the notifications inbox, per-site routes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import scope_to_sites, sites_for
from accounts.permissions import can, require
from cases.access import record_case_viewed
from common.params import int_param, local_path
from monitoring.kinds import kind_label
from monitoring.models import Draw, DrawState, Notification, Reminder, ReminderRoute
from monitoring.reminders.forms import AcknowledgeForm, RouteForm
from monitoring.reminders.sweep import (
    acknowledgement_record,
    local_today,
    routes_save,
    state_on,
    unread_count,
)


def _get_draw_for_user(request, draw_pk: int) -> Draw:
    """The draw, if it belongs to one of the user's sites; 404 otherwise."""
    qs = scope_to_sites(Draw.objects.select_related("case__patient", "site", "protocol"), request.user)
    draw = get_object_or_404(qs, pk=draw_pk)
    record_case_viewed(draw.case)  # the acknowledge page shows the patient: a case view
    return draw


def _safe_next(request, fallback: str) -> str:
    return local_path(request.POST.get("next") or request.GET.get("next")) or fallback


def _acknowledge_context(request, draw: Draw, form: AcknowledgeForm, today) -> dict:
    return {
        "draw": draw,
        "state_label": DrawState(state_on(draw, today)).label,
        "kind_label": kind_label(draw.kind),
        "form": form,
        "today": today,
        "days_late": max(0, (today - draw.window_closes).days),
        "reminders": Reminder.objects.filter(draw=draw).prefetch_related("attempt_rows").order_by("created_at", "pk"),
        "acknowledgements": draw.acknowledgements.select_related("by"),
        "next": _safe_next(request, ""),
    }


def _after_acknowledge(request, draw: Draw) -> str:
    managers = can(request.user, "read_overdue_dashboard")
    fallback = reverse("monitoring:dashboard") if managers else reverse("cases:detail", args=[draw.case_id])
    return _safe_next(request, fallback)


@require_http_methods(["GET", "POST"])
def reminder_acknowledge(request, draw_pk: int):
    draw = _get_draw_for_user(request, draw_pk)
    require(request.user, "acknowledge_overdue")
    today = local_today(draw.site.timezone, timezone.now())
    form = AcknowledgeForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            acknowledgement_record(draw=draw, by=request.user, today=today, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            paused = " Escalation paused." if form.cleaned_data["snoozed_until"] else ""
            messages.success(request, "Acknowledged." + paused)
            return redirect(_after_acknowledge(request, draw))
    context = _acknowledge_context(request, draw, form, today)
    return render(request, "monitoring/reminders/acknowledge.html", context, status=400 if form.errors else 200)


@require_GET
def notifications(request):
    show_all = request.GET.get("show") == "all"
    qs = Notification.objects.filter(user=request.user).select_related("site")
    if not show_all:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    context = {"page": page, "show_all": show_all, "unread": unread_count(request.user)}
    return render(request, "monitoring/reminders/notifications.html", context)


@require_POST
def notification_read(request, notification_pk: int):
    notification = get_object_or_404(Notification, pk=notification_pk, user=request.user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    if request.POST.get("open"):
        return redirect(notification.url)
    return redirect(_safe_next(request, reverse("monitoring:notifications")))


@require_POST
def notifications_read_all(request):
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("monitoring:notifications")


@require_GET
def notification_badge(request):
    """The navbar's unread count, polled in the background (does not keep the session alive)."""
    return render(request, "monitoring/reminders/_badge.html", {"unread": unread_count(request.user)})


def _route_forms(request, bound_site=None):
    current: dict[int, dict[str, list[str]]] = {}
    for site_id, kind, role in ReminderRoute.objects.filter(site__in=sites_for(request.user)).values_list(
        "site_id", "kind", "role"
    ):
        current.setdefault(site_id, {}).setdefault(kind, []).append(role)
    return [
        RouteForm(
            request.POST if bound_site is not None and site.pk == bound_site.pk else None,
            site=site,
            current=current.get(site.pk, {}),
        )
        for site in sites_for(request.user).order_by("short_code")
    ]


@require_http_methods(["GET", "POST"])
def reminder_routes(request):
    site = None
    if request.method == "POST":
        site = get_object_or_404(sites_for(request.user), pk=int_param(request.POST.get("site"), default=0))
    require(request.user, "edit_reminder_routes")
    forms = _route_forms(request, bound_site=site)
    bound = next((form for form in forms if form.is_bound), None)
    if bound is not None and bound.is_valid():
        routes_save(site=site, routes=bound.routes())
        messages.success(request, f"Reminder routes saved for {site.short_code}.")
        return redirect("monitoring:reminder_routes")
    return render(
        request, "monitoring/reminders/routes.html", {"forms": forms}, status=400 if bound is not None else 200
    )
