from __future__ import annotations

from django.urls import path

from cases import views
from cases.infusion.urls import urlpatterns as infusion_urlpatterns

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/audit/", views.case_audit, name="audit"),
    path("<int:pk>/audit.csv", views.case_audit_csv, name="audit_csv"),
    path("<int:pk>/gate/", views.case_gate_panel, name="gate"),
    path("<int:pk>/pipeline/", views.case_pipeline_panel, name="pipeline"),
    path("<int:pk>/gating/", views.case_start_gating, name="start_gating"),
    path("<int:pk>/stage/", views.case_stage_move, name="stage_move"),
    path("<int:pk>/weights/", views.weight_add, name="weight_add"),
    path("<int:pk>/titers/", views.titer_add, name="titer_add"),
    path("<int:pk>/labs/", views.labs_add, name="labs_add"),
    path("<int:pk>/motor/", views.motor_add, name="motor_add"),
    path("<int:pk>/documents/", views.document_add, name="document_add"),
    path("<int:pk>/documents/<int:document_pk>/", views.document_download, name="document"),
    path("<int:pk>/void/<slug:kind>/<int:row_pk>/", views.entry_void_view, name="entry_void"),
]


urlpatterns += infusion_urlpatterns
