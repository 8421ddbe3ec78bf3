"""Billing views. Each view: decorators → access helper → role check → form → save → response.

Patient data is reached only through ``_get_case_for_user`` / ``_get_packet_for_user``
(another site's case or packet is a 404); role checks come after the site-scoped fetch.
"""

from __future__ import annotations

from auditlog.signals import accessed
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import scope_to_sites
from accounts.permissions import can, require
from billing import pa_rules
from billing.denials import DENIAL_REASONS
from billing.forms import (
    LetterForm,
    OneGeneEnrollmentForm,
    PacketForm,
    PADetailsForm,
    PAMoveForm,
    PayerForm,
    ReferencePriceForm,
    SupportProgramForm,
)
from billing.lmn import LetterError, letter_save, letter_state
from billing.models import (
    OneGeneEnrollment,
    PacketJob,
    PAPacket,
    Payer,
    PriorAuthorization,
    ReferencePrice,
    SupportProgram,
)
from billing.pa import pa_start, pa_transition
from billing.packet_documents import current_documents
from billing.packet_jobs import JobRefused, job_expire_if_stuck, job_request
from billing.tasks import enqueue_packet
from cases.access import get_case_for_user
from cases.models import Case


def _get_case_for_user(request, pk: int) -> Case:
    """The case, if it belongs to one of the user's sites; 404 otherwise."""
    return get_case_for_user(
        request, pk, prefetch=lambda qs: qs.select_related("patient", "site", "payer"), viewed=False
    )


def _get_pa_for_user(request, pk: int) -> PriorAuthorization:
    """The case's prior authorization (404 for another site's case, or when none was started)."""
    case = _get_case_for_user(request, pk)
    return get_object_or_404(PriorAuthorization.objects.select_related("case", "payer"), case=case)


def _get_packet_for_user(request, packet_pk: int) -> PAPacket:
    packets = scope_to_sites(PAPacket.objects.select_related("case"), request.user, "case__site")
    return get_object_or_404(packets, pk=packet_pk)


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk]) + "#billing"


# --- Payers and reference data (not patient data: any staff role reads, admins edit) -----------
def payer_list(request):
    require(request.user, "read_billing")
    payers = Payer.objects.all()
    return render(
        request, "billing/payer_list.html", {"payers": payers, "can_edit": can(request.user, "edit_reference_data")}
    )


@require_http_methods(["GET", "POST"])
def payer_edit(request, payer_pk: int | None = None):
    payer = get_object_or_404(Payer, pk=payer_pk) if payer_pk else None
    require(request.user, "edit_reference_data")
    form = PayerForm(request.POST or None, instance=payer)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved the policy of {saved.name}.")
        return redirect("billing:payers")
    title = f"Edit payer: {payer.name}" if payer else "Add a payer"
    return render(request, "billing/form_page.html", {"form": form, "title": title, "back": reverse("billing:payers")})


@require_GET
def reference(request):
    require(request.user, "read_billing")
    context = {
        "prices": ReferencePrice.objects.all(),
        "programs": SupportProgram.objects.all(),
        "can_edit": can(request.user, "edit_reference_data"),
    }
    return render(request, "billing/reference.html", context)


@require_http_methods(["GET", "POST"])
def price_edit(request, price_pk: int | None = None):
    price = get_object_or_404(ReferencePrice, pk=price_pk) if price_pk else None
    require(request.user, "edit_reference_data")
    form = ReferencePriceForm(request.POST or None, instance=price)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved the reference price.")
        return redirect("billing:reference")
    title = "Edit reference price" if price else "Add a reference price"
    return render(
        request, "billing/form_page.html", {"form": form, "title": title, "back": reverse("billing:reference")}
    )


@require_http_methods(["GET", "POST"])
def program_edit(request, program_pk: int):
    program = get_object_or_404(SupportProgram, pk=program_pk)
    require(request.user, "edit_reference_data")
    form = SupportProgramForm(request.POST or None, instance=program)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved {program.name}.")
        return redirect("billing:reference")
    return render(
        request,
        "billing/form_page.html",
        {"form": form, "title": f"Edit {program.name}", "back": reverse("billing:reference")},
    )


# --- Prior authorization ----------------------------------------------------------------------
@require_POST
def pa_open(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "manage_pa")
    _pa, created = pa_start(case=case, by=request.user)
    if created:
        messages.success(request, "Started a draft prior authorization.", extra_tags="billing")
    return redirect(_case_url(case))


@require_http_methods(["GET", "POST"])
def pa_details(request, pk: int):
    pa = _get_pa_for_user(request, pk)
    require(request.user, "manage_pa")
    form = PADetailsForm(request.POST or None, instance=pa)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved the prior authorization details.", extra_tags="billing")
        return redirect(_case_url(pa.case))
    accessed.send(sender=Case, instance=pa.case)
    context = {"form": form, "title": "Prior authorization details", "case": pa.case, "back": _case_url(pa.case)}
    return render(request, "billing/form_page.html", context)


@require_http_methods(["GET", "POST"])
def pa_move(request, pk: int):
    pa = _get_pa_for_user(request, pk)
    require(request.user, "manage_pa")
    to = request.POST.get("to") or request.GET.get("to", "")
    try:
        pa_rules.check_transition(pa.status, to)
    except pa_rules.PATransitionError as exc:
        messages.error(request, str(exc), extra_tags="billing")
        return redirect(_case_url(pa.case))
    form = PAMoveForm(request.POST or None, to=to, initial={"expected_status": pa.status})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "to"}
        try:
            result = pa_transition(pa=pa, to=to, by=request.user, **data)
        except pa_rules.PATransitionError as exc:
            messages.error(request, str(exc), extra_tags="billing")
            return redirect(_case_url(pa.case))
        messages.success(
            request, f"Prior authorization {result.pa.get_status_display().lower()}.", extra_tags="billing"
        )
        if result.pipeline_message:
            messages.warning(request, result.pipeline_message, extra_tags="billing")
        return redirect(_case_url(pa.case))
    accessed.send(sender=Case, instance=pa.case)
    context = {
        "form": form,
        "pa": pa,
        "to": to,
        "to_label": dict(PriorAuthorization._meta.get_field("status").choices)[to],
        "case": pa.case,
        "denial_reasons": DENIAL_REASONS if to == pa_rules.DENIED else (),
    }
    return render(request, "billing/pa_move.html", context)


# --- Letter of medical necessity -----------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def letter_page(request, pk: int):
    """The letter: GeneGate's draft or the newest version, the facts it states, its versions; the
    ordering physician edits it, saves it and signs it with their password."""
    case = _get_case_for_user(request, pk)
    require(request.user, "read_billing")
    state = letter_state(case)
    can_edit = can(request.user, "edit_lmn", case.site_id)
    initial = {"body": state.text, "based_on": state.latest.version if state.latest else 0}
    form = LetterForm(request.POST or None, request=request, initial=initial)
    if request.method == "POST":
        require(request.user, "edit_lmn", case.site_id)
        if form.is_valid():
            sign = form.cleaned_data["action"] == "sign"
            if sign:
                require(request.user, "sign_lmn", case.site_id)
            try:
                version = letter_save(
                    case=case, body=form.cleaned_data["body"], based_on=form.cleaned_data["based_on"],
                    by=request.user, sign=sign,
                )  # fmt: skip
            except LetterError as exc:
                form.add_error(None, str(exc))
            else:
                if sign:
                    messages.success(request, f"Signed version {version.version} of the letter of medical necessity.")
                else:
                    messages.success(
                        request, f"Saved version {version.version}. It goes into a final packet once you sign it."
                    )
                return redirect(reverse("billing:letter", args=[case.pk]))
    accessed.send(sender=Case, instance=case)
    context = {
        "case": case,
        "state": state,
        "lmn": state.lmn,
        "s": state.snapshot,
        "form": form,
        "can_edit": can_edit,
        "can_sign": can(request.user, "sign_lmn", case.site_id),
        "back": _case_url(case),
    }
    return render(request, "billing/letter.html", context)


# --- Packets ------------------------------------------------------------------------------------
@require_POST
def packet_generate(request, pk: int):
    """Ask the worker for a packet (billing/packet_jobs.py); the case page shows its progress."""
    case = _get_case_for_user(request, pk)
    require(request.user, "manage_pa")
    form = PacketForm(request.POST, documents=current_documents(case))
    if not form.is_valid():
        problem = form.non_field_errors() or [
            "Choose a draft or a final packet, and for each document whether to append it."
        ]
        messages.error(request, problem[0], extra_tags="billing")
        return redirect(_case_url(case))
    try:
        job_request(
            case=case,
            by=request.user,
            final=form.cleaned_data["final"],
            enqueue=enqueue_packet,
            document_choices=form.document_choices(),
        )
    except JobRefused as exc:
        messages.error(request, str(exc), extra_tags="billing")
        return redirect(_case_url(case))
    kind = "final" if form.cleaned_data["final"] else "draft"
    messages.info(request, f"Generating a {kind} packet; it appears below when it is ready.", extra_tags="billing")
    return redirect(_case_url(case))


@require_GET
def packet_job(request, job_pk: int):
    """The progress of one packet job, as the htmx fragment the billing panel polls."""
    qs = PacketJob.objects.select_related("case", "packet")
    job = get_object_or_404(scope_to_sites(qs, request.user, "case__site"), pk=job_pk)
    require(request.user, "read_billing")
    job_expire_if_stuck(job)
    response = render(request, "billing/_packet_job.html", {"job": job})
    if not job.active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the panel's packet list and buttons follow
    return response


@require_GET
def packet_download(request, packet_pk: int):
    packet = _get_packet_for_user(request, packet_pk)
    require(request.user, "read_billing")
    accessed.send(sender=PAPacket, instance=packet)
    try:
        handle = packet.file.open("rb")
    except OSError:
        messages.error(request, "The stored packet file is missing; generate the packet again.", extra_tags="billing")
        return redirect(_case_url(packet.case))
    kind = "final" if packet.final else "draft"
    filename = f"pa-packet-case-{packet.case_id}-v{packet.version}-{kind}.pdf"  # no patient data in the name
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    return response


# --- OneGene enrollment -------------------------------------------------------------------------
def onegene_edit(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "record_enrollment")
    program = SupportProgram.objects.filter(slug="onegene").first()
    enrollment = OneGeneEnrollment.objects.filter(case=case).first()
    form = OneGeneEnrollmentForm(
        request.POST or None, instance=enrollment, services=list(program.services) if program else []
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.case, saved.recorded_by = case, request.user
        saved.save()
        messages.success(request, "Saved the OneGene Program enrollment.", extra_tags="billing")
        return redirect(_case_url(case))
    accessed.send(sender=Case, instance=case)
    title = "OneGene Program enrollment"
    return render(
        request, "billing/form_page.html", {"form": form, "title": title, "case": case, "back": _case_url(case)}
    )
