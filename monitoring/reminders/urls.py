"""Reminder and dashboard URLs, added to monitoring/urls.py by one line."""

from __future__ import annotations

from django.urls import path

from monitoring.reminders import dashboard_views
from monitoring.reminders import views as reminder_views

reminder_urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/export.csv", dashboard_views.dashboard_csv, name="dashboard_csv"),
    path("reminders/routes/", reminder_views.reminder_routes, name="reminder_routes"),
    path(
        "reminders/draws/<int:draw_pk>/acknowledge/",
        reminder_views.reminder_acknowledge,
        name="reminder_acknowledge",
    ),
    path("notifications/", reminder_views.notifications, name="notifications"),
    path("notifications/badge/", reminder_views.notification_badge, name="notification_badge"),
    path("notifications/read-all/", reminder_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_pk>/read/", reminder_views.notification_read, name="notification_read"),
]
