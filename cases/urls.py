from __future__ import annotations

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="detail"),
]

from cases.infusion_urls import urlpatterns as infusion_urlpatterns  # noqa: E402

urlpatterns += infusion_urlpatterns
