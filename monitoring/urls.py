from __future__ import annotations

app_name = "monitoring"

urlpatterns: list = []
