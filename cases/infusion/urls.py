"""Infusion-day URLs, appended to cases/urls.py (namespace "cases"); kwargs are the case ``pk``."""

from __future__ import annotations

from django.urls import path

from cases.infusion import views

urlpatterns = [
    path("<int:pk>/infusion/", views.infusion_day, name="infusion"),
    path("<int:pk>/infusion/record/", views.infusion_record_save, name="infusion_record"),
    path("<int:pk>/infusion/clinical-status/", views.infusion_clinical_status, name="infusion_clinical_status"),
    path("<int:pk>/infusion/plan/", views.infusion_plan, name="infusion_plan"),
    path("<int:pk>/infusion/override/", views.infusion_override, name="infusion_override"),
    path("<int:pk>/infusion/sign/", views.infusion_sign_view, name="infusion_sign"),
    path("<int:pk>/infusion/amend/", views.infusion_amend, name="infusion_amend"),
]
