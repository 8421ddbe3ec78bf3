"""The electronic prior authorization page: what the Da Vinci PAS request says (shown before it is
sent), "Send electronically", retries, downloads, and every request and answer with its outcome.

Each view: decorators → site-scoped fetch (another site's case or request is a 404) → role
check → action → response. Reading needs ``read_billing``; sending, retrying and downloading a
Bundle (it holds the patient's documents) need ``manage_pa``.
"""

from __future__ import annotations

import json

from auditlog.signals import accessed
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import scope_to_sites
from accounts.permissions import can, require
from billing.models import PASRequest, PriorAuthorization
from billing.pas import profiles as P
from billing.pas.tasks import enqueue_send
from billing.pas.workflow import PASError, new_request_id, pas_build, pas_prepare, pas_retry, send_refusal
from billing.views import _get_case_for_user
from cases.models import Case


def _get_pas_request_for_user(request, request_pk: int) -> PASRequest:
    requests = scope_to_sites(
        PASRequest.objects.select_related("prior_authorization__case"), request.user, "prior_authorization__case__site"
    )
    return get_object_or_404(requests, pk=request_pk)


def _page_url(case_pk: int) -> str:
    return reverse("billing:pas", args=[case_pk])


def summary(bundle: dict | None, snapshot: dict) -> dict | None:
    """What the request says, in the words billing staff check before sending."""
    if bundle is None:
        return None
    entries = [e["resource"] for e in bundle["entry"]]
    claim = entries[0]
    kinds: dict[str, list[dict]] = {}
    for resource in entries[1:]:
        kinds.setdefault(resource["resourceType"], []).append(resource)
    certification = next(
        e["valueCodeableConcept"]["coding"][0]["code"]
        for e in claim["item"][0]["extension"]
        if e["url"] == P.EXT_CERTIFICATION_TYPE
    )
    coverage = kinds.get("Coverage", [{}])[0]
    return {
        "certification": P.CERTIFICATION_LABELS.get(certification, certification),
        "certification_code": certification,
        "priority": claim["priority"]["coding"][0]["code"],
        "claim_type": claim["type"]["coding"][0]["code"],
        "items": [
            {
                "code": i["productOrService"]["coding"][0]["code"],
                "system": "HCPCS" if i["productOrService"]["coding"][0]["system"] == P.HCPCS else "CPT",
                "display": i["productOrService"]["coding"][0].get("display", ""),
                "quantity": i["quantity"]["value"],
                "date": i.get("servicedDate", ""),
                "pos": (i.get("locationCodeableConcept") or {}).get("coding", [{}])[0].get("code", ""),
            }
            for i in claim["item"]
        ],
        "ndc": snapshot["service"]["kit"]["ndc"] if snapshot["service"]["kit"] else "",
        "diagnoses": [d["diagnosisCodeableConcept"]["coding"][0] for d in claim.get("diagnosis", [])],
        "member_id": coverage.get("subscriberId", ""),
        "group": ", ".join(c.get("value", "") for c in coverage.get("class", [])),
        "relationship": (coverage.get("relationship") or {}).get("coding", [{}])[0].get("code", ""),
        "payer": snapshot["coverage"]["payer"],
        "physician": snapshot["physician"],
        "site": snapshot["site"],
        "observations": [
            o.get("code", {}).get("text") or o["code"]["coding"][0].get("display", "")
            for o in kinds.get("Observation", [])
        ],
        "documents": ["Letter of medical necessity (signed), rendered as the packet prints it"]
        + [f"{d['kind_label']}, uploaded {d.get('uploaded_text') or d['uploaded_on']}" for d in snapshot["documents"]],
    }


@require_GET
def pas_page(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "read_billing")
    pa = PriorAuthorization.objects.filter(case=case).select_related("payer").first()
    # The preview leaves the documents out (rendering the letter takes a moment); sending builds
    # the whole request and checks it again.
    built = pas_build(case, request_id="preview", with_documents=False)
    requests = []
    if pa is not None:
        requests = list(
            PASRequest.objects.filter(prior_authorization=pa).select_related("about").prefetch_related("attempt_rows")
        )
    accessed.send(sender=Case, instance=case)
    context = {
        "case": case,
        "pa": pa,
        "payer": case.payer,
        "built": built,
        "summary": summary(built.bundle, built.snapshot),
        "refusal": send_refusal(pa, case),
        "requests": requests,
        "can_manage": can(request.user, "manage_pa"),
        "pas_version": P.PAS_VERSION,
        "back": reverse("cases:detail", args=[case.pk]) + "#billing",
    }
    return render(request, "billing/pas/page.html", context)


@require_POST
def pas_send(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "manage_pa")
    try:
        pas_request = pas_prepare(case=case, by=request.user)
    except PASError as exc:
        messages.error(request, str(exc))
        return redirect(_page_url(case.pk))
    enqueue_send(pas_request.pk)
    messages.success(
        request,
        "The request is on its way to the payer (Claim/$submit, from the worker). This page shows the payer's answer "
        "once it arrives; reload it in a moment.",
    )
    return redirect(_page_url(case.pk))


@require_POST
def pas_retry_view(request, request_pk: int):
    pas_request = _get_pas_request_for_user(request, request_pk)
    case_pk = pas_request.prior_authorization.case_id
    require(request.user, "manage_pa")
    try:
        pas_retry(request=pas_request, by=request.user)
    except PASError as exc:
        messages.error(request, str(exc))
        return redirect(_page_url(case_pk))
    enqueue_send(pas_request.pk)
    messages.success(request, "Queued again: the same request, with the same identifier, goes to the payer.")
    return redirect(_page_url(case_pk))


def _json_attachment(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def pas_bundle_download(request, pk: int):
    """The request as it would go now, as JSON, for payers that take uploads (same rules as sending)."""
    case = _get_case_for_user(request, pk)
    require(request.user, "manage_pa")
    built = pas_build(case, request_id=new_request_id())
    if built.blockers or built.error or built.problems:
        reason = (
            f"every blocking item must pass (still blocking: {'; '.join(built.blockers)})"
            if built.blockers
            else built.error or "; ".join(str(p) for p in built.problems[:5])
        )
        messages.error(request, f"The Bundle cannot be downloaded: {reason}.")
        return redirect(_page_url(case.pk))
    accessed.send(sender=Case, instance=case)
    return _json_attachment(json.dumps(built.bundle, ensure_ascii=False, indent=2), f"pas-request-case-{case.pk}.json")


@require_GET
def pas_request_download(request, request_pk: int):
    """A stored request exactly as it was sent."""
    pas_request = _get_pas_request_for_user(request, request_pk)
    require(request.user, "manage_pa")
    accessed.send(sender=PASRequest, instance=pas_request)
    name = f"pas-{pas_request.kind}-case-{pas_request.prior_authorization.case_id}-{pas_request.pk}.json"
    return _json_attachment(pas_request.body, name)
