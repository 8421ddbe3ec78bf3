from __future__ import annotations

from django.urls import path

from monitoring.inbox import views

inbox_urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/upload/", views.upload, name="inbox_upload"),
    path("inbox/<int:pk>/", views.message_detail, name="inbox_message"),
    path("inbox/<int:pk>/review/", views.message_review, name="inbox_review"),
    path("inbox/<int:pk>/process/", views.message_reprocess, name="inbox_reprocess"),
    path("inbox/fhir/Bundle", views.fhir_endpoint, name="inbox_fhir"),
]
