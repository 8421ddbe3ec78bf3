"""The results inbox's pages (list, message, upload, review) and the FHIR endpoint.

Every page is site-scoped (another site's message is a 404) and asks the permission table;
the endpoint instead takes a per-site bearer token (monitoring.inbox.tokens) and answers with
a FHIR OperationOutcome: never a 500, never a login page.
"""

from __future__ import annotations

from auditlog.signals import accessed
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import scope_to_sites
from accounts.permissions import can, require
from cases.analytes import ANALYTES
from monitoring.inbox import hl7v2, tokens
from monitoring.inbox.forms import ReviewForm, UploadForm
from monitoring.inbox.models import InboxMessage, InboxSource, InboxStatus
from monitoring.inbox.workflows import process, receive_csv, receive_fhir, receive_hl7_batch, review

MAX_FHIR_BYTES = 5 * 1024 * 1024
FHIR_TYPES = ("application/fhir+json", "application/json")
STATUS_ORDER = [s.value for s in InboxStatus]


def _messages_for(user):
    return scope_to_sites(InboxMessage.objects.all(), user)


def _get_message_for_user(request, pk: int) -> InboxMessage:
    qs = _messages_for(request.user).select_related("site", "laboratory", "case__patient", "reviewed_by")
    return get_object_or_404(qs, pk=pk)


@require_GET
def inbox(request):
    """The inbox: messages at the user's sites, newest first, filtered by status."""
    require(request.user, "read_results_inbox")
    status = request.GET.get("status", "")
    qs = _messages_for(request.user)
    counts = dict(qs.values_list("status").annotate(n=Count("pk")).order_by())
    if status in STATUS_ORDER:
        qs = qs.filter(status=status)
    page = Paginator(qs.select_related("site", "case__patient").order_by("-received_at", "-pk"), 25).get_page(
        request.GET.get("page")
    )
    tabs = [(s.value, s.label, counts.get(s.value, 0)) for s in InboxStatus]
    context = {
        "page": page,
        "status": status,
        "tabs": tabs,
        "total": sum(counts.values()),
        "query": f"status={status}" if status else "",
        "can_review": can(request.user, "review_results_inbox"),
    }
    return render(request, "monitoring/inbox/list.html", context)


def _lines(message: InboxMessage) -> list[dict]:
    """The message's result lines with their analyte's display name (cases.analytes)."""
    return [
        {**line, "label": ANALYTES[line["analyte"]].label if line.get("analyte") in ANALYTES else line.get("analyte")}
        for line in message.details.get("lines", [])
    ]


def _detail_page(request, message, form=None, status=200):
    can_review = can(request.user, "review_results_inbox")
    if form is None and can_review and message.status == InboxStatus.NEEDS_REVIEW:
        form = ReviewForm(message=message)
    draws = {line.get("draw") for line in message.details.get("lines", []) if line.get("draw")}
    context = {
        "message": message,
        "raw": message.raw[:20000].replace("\r\n", "\n").replace("\r", "\n"),
        "lines": _lines(message),
        "form": form,
        "can_review": can_review,
        "draw_ids": sorted(draws),
        "can_reprocess": can_review and message.status != InboxStatus.PROCESSED,
    }
    return render(request, "monitoring/inbox/detail.html", context, status=status)


@require_GET
def message_detail(request, pk: int):
    """One message: outcome, results, notes, the raw payload, and the review if held."""
    require(request.user, "read_results_inbox")
    message = _get_message_for_user(request, pk)
    accessed.send(sender=InboxMessage, instance=message)  # the raw payload holds patient data
    return _detail_page(request, message)


@require_POST
def message_review(request, pk: int):
    """The coordinator assigns a held message to draws: its results are recorded there."""
    message = _get_message_for_user(request, pk)
    require(request.user, "review_results_inbox")
    form = ReviewForm(request.POST, message=message)
    if message.status != InboxStatus.NEEDS_REVIEW:
        form.add_error(None, "This message is no longer held for review.")
    if not form.is_valid():
        return _detail_page(request, message, form=form, status=422)
    try:
        outcome = review(message, chosen=form.cleaned_data["chosen"], by=request.user)
    except ValueError as exc:
        form.add_error(None, str(exc))
        return _detail_page(request, message, form=form, status=422)
    _tell(request, outcome.message)
    return redirect("monitoring:inbox_message", pk=message.pk)


@require_POST
def message_reprocess(request, pk: int):
    """Process a received, failed, matched or held message again (after a mapping fix)."""
    message = _get_message_for_user(request, pk)
    require(request.user, "review_results_inbox")
    if message.status == InboxStatus.PROCESSED:
        messages.info(request, "This message is already processed.")
        return redirect("monitoring:inbox_message", pk=message.pk)
    outcome = process(message, by=request.user)
    _tell(request, outcome.message)
    return redirect("monitoring:inbox_message", pk=message.pk)


def _tell(request, message: InboxMessage) -> None:
    text = f"Message {message.pk}: {message.get_status_display().lower()}."
    if message.reason:
        text += f" {message.reason}"
    level = {
        InboxStatus.PROCESSED: messages.success,
        InboxStatus.FAILED: messages.error,
    }.get(message.status, messages.warning)
    level(request, text)


@require_http_methods(["GET", "POST"])
def upload(request):
    """Upload a file of results: HL7 (one or many messages), a FHIR Bundle, or a CSV export."""
    require(request.user, "review_results_inbox")
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site, source = data["site"], data["source"]
        problems: list[str] = []
        if source == InboxSource.HL7:
            # latin-1 keeps every byte; each message is decoded by its own MSH-18 again.
            parts = hl7v2.split(data["file"].decode("latin-1"))
            outcomes = []
            for start in range(0, len(parts), 100):  # one batch per hundred messages (receive_hl7_batch)
                chunk = [p.encode("latin-1") for p in parts[start : start + 100]]
                outcomes += receive_hl7_batch(chunk, site=site, by=request.user)
        elif source == InboxSource.FHIR:
            outcomes = [receive_fhir(data["text"], site=site, by=request.user)]
        else:
            outcomes, problems = receive_csv(data["text"], site=site, laboratory=data["laboratory"], by=request.user)
        summary: dict[str, int] = {}
        for o in outcomes:
            key = "duplicate" if o.duplicate else (o.message.get_status_display().lower() if o.message else "refused")
            summary[key] = summary.get(key, 0) + 1
        text = f"{len(outcomes)} message(s) received: " + ", ".join(f"{n} {k}" for k, n in summary.items()) + "."
        bad = [o.message for o in outcomes if o.message and o.message.status != InboxStatus.PROCESSED]
        (messages.warning if bad else messages.success)(request, text)
        for reason in problems[:20]:
            messages.error(request, reason)
        if len(outcomes) == 1 and outcomes[0].message is not None:
            return redirect("monitoring:inbox_message", pk=outcomes[0].message.pk)
        return redirect("monitoring:inbox")
    return render(request, "monitoring/inbox/upload.html", {"form": form}, status=422 if form.errors else 200)


# --- FHIR endpoint ---------------------------------------------------------------------------


def _operation_outcome(status: int, severity: str, code: str, text: str, message_id=None) -> JsonResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }
    response = JsonResponse(body, status=status, content_type="application/fhir+json")
    if message_id is not None:
        response["X-Inbox-Message"] = str(message_id)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="genegate-results"'
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@csrf_exempt  # a machine client with a bearer token, no cookies: CSRF does not apply
@never_cache
@require_POST
def fhir_endpoint(request):
    """POST a FHIR R4 Bundle with ``Authorization: Bearer <site token>``.

    200 processed (or a duplicate, or held until the final report), 202 held for review,
    422 not readable (the reason), 401 bad token, 413 too large, 415 not FHIR JSON."""
    token = tokens.authenticate(request.headers.get("Authorization", ""))
    if token is None:
        return _operation_outcome(401, "error", "login", "Missing, unknown or revoked token.")
    content_type = request.content_type or ""
    if content_type not in FHIR_TYPES:
        return _operation_outcome(415, "error", "not-supported", "Send application/fhir+json.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_FHIR_BYTES:
        return _operation_outcome(413, "error", "too-costly", f"The bundle is larger than {MAX_FHIR_BYTES} bytes.")
    body = request.read(MAX_FHIR_BYTES + 1)
    if len(body) > MAX_FHIR_BYTES:
        return _operation_outcome(413, "error", "too-costly", f"The bundle is larger than {MAX_FHIR_BYTES} bytes.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _operation_outcome(400, "error", "structure", "The body is not UTF-8.")
    outcome = receive_fhir(text, site=token.site, sender=f"token {token.prefix}")
    message = outcome.message
    pk = message.pk if message else None
    if outcome.duplicate:
        return _operation_outcome(200, "information", "duplicate", outcome.reason, pk)
    status = message.status if message else InboxStatus.FAILED
    if status == InboxStatus.PROCESSED or status == InboxStatus.MATCHED:
        return _operation_outcome(200, "information", "informational", outcome.reason or "Accepted.", pk)
    if status == InboxStatus.NEEDS_REVIEW:
        return _operation_outcome(202, "warning", "processing", outcome.reason, pk)
    return _operation_outcome(422, "error", "invalid", outcome.reason, pk)
