from __future__ import annotations

from django.urls import path

from billing import desk, views
from billing.claims import views as claim_views
from billing.pas import views as pas_views

app_name = "billing"

urlpatterns = [
    path("desk/", desk.desk, name="desk"),
    path("payers/", views.payer_list, name="payers"),
    path("payers/new/", views.payer_edit, name="payer_new"),
    path("payers/<int:payer_pk>/edit/", views.payer_edit, name="payer_edit"),
    path("reference/", views.reference, name="reference"),
    path("reference/prices/new/", views.price_edit, name="price_new"),
    path("reference/prices/<int:price_pk>/edit/", views.price_edit, name="price_edit"),
    path("reference/programs/<int:program_pk>/edit/", views.program_edit, name="program_edit"),
    path("cases/<int:pk>/pa/start/", views.pa_open, name="pa_start"),
    path("cases/<int:pk>/pa/details/", views.pa_details, name="pa_details"),
    path("cases/<int:pk>/pa/move/", views.pa_move, name="pa_move"),
    path("cases/<int:pk>/packets/generate/", views.packet_generate, name="packet_generate"),
    path("cases/<int:pk>/letter/", views.letter_page, name="letter"),
    path("packets/<int:packet_pk>/download/", views.packet_download, name="packet_download"),
    path("packet-jobs/<int:job_pk>/", views.packet_job, name="packet_job"),
    path("cases/<int:pk>/onegene/", views.onegene_edit, name="onegene"),
    path("cases/<int:pk>/pas/", pas_views.pas_page, name="pas"),
    path("cases/<int:pk>/pas/send/", pas_views.pas_send, name="pas_send"),
    path("cases/<int:pk>/pas/bundle.json", pas_views.pas_bundle_download, name="pas_bundle"),
    path("pas/<int:request_pk>/retry/", pas_views.pas_retry_view, name="pas_retry"),
    path("pas/<int:request_pk>/request.json", pas_views.pas_request_download, name="pas_request_json"),
    path("cases/<int:pk>/claim/", claim_views.claim_page, name="claim"),
    path("cases/<int:pk>/claim.csv", claim_views.claim_csv_download, name="claim_csv"),
    path("cases/<int:pk>/claim.pdf", claim_views.claim_pdf_download, name="claim_pdf"),
    path("cases/<int:pk>/claim.x12", claim_views.claim_x12_download, name="claim_x12"),
    path("cases/<int:pk>/claim/v<int:version>/", claim_views.claim_page, name="claim_version"),
    path("cases/<int:pk>/claim/v<int:version>.csv", claim_views.claim_csv_download, name="claim_version_csv"),
    path("cases/<int:pk>/claim/v<int:version>.pdf", claim_views.claim_pdf_download, name="claim_version_pdf"),
]
