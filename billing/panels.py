"""The billing panel on the case page (cases/panels.py PANELS)."""

from __future__ import annotations

from accounts.permissions import can
from billing.forms import PacketForm
from billing.models import PacketJob, PASRequest
from billing.packet_documents import current_documents
from billing.pas.workflow import send_refusal
from billing.summary import billing_summary


def case_panel(request, case) -> tuple[str, dict]:
    """Return the billing panel's template and context for ``case`` (already site-checked)."""
    context = billing_summary(case, by=request.user)
    user = request.user
    pa = context["pa"]
    context.update(
        pas_latest=PASRequest.objects.filter(prior_authorization=pa, kind=PASRequest.Kind.SUBMIT).first()
        if pa
        else None,
        pas_refusal=send_refusal(pa, case),
        packet_job=_packet_job_shown(case),
    )
    context.update(
        can_manage=can(user, "manage_pa"),
        can_enroll=can(user, "record_enrollment"),
        can_edit_reference=can(user, "edit_reference_data"),
    )
    if context["can_manage"]:
        context["packet_form"] = PacketForm(documents=current_documents(case))
    return "billing/_case_panel.html", context


def _packet_job_shown(case):
    """The newest packet job while it runs, or when it failed (its message until a newer one)."""
    job = PacketJob.objects.filter(case=case).first()
    if job is None or job.state == PacketJob.State.DONE:
        return None
    return job
