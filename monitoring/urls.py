from __future__ import annotations

app_name = "monitoring"

urlpatterns: list = []

from monitoring.urls_reminders import reminder_urlpatterns  # noqa: E402  (issue 7)

urlpatterns += reminder_urlpatterns
