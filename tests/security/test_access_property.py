"""Hypothesis: for every view that takes an object id, GET and POST, a user is let in exactly when
their sites and role allow it, and a refusal never carries the object's patient data.

The role table below is the specification (DESIGN.md "Access": coordinators enter, physicians
sign and decide, billing owns PA and packets, managers see the dashboard and acknowledge).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.access import user_roles, user_site_ids
from tests.security.corpus import seed_world

ALL = ("coordinator", "physician", "billing", "manager", "admin")
ENTER = ("coordinator", "admin")
RESULTS = ("coordinator", "physician", "admin")
CLINICAL = ("coordinator", "physician")
BILLING = ("billing", "admin")

# url name -> {method: roles allowed (at the object's site)}
SPEC = {
    "cases:detail": {"get": ALL},
    "cases:edit": {"get": ENTER, "post": ENTER},
    "cases:gate": {"get": ALL},
    "cases:pipeline": {"get": ALL},
    "cases:start_gating": {"post": ENTER},
    "cases:weight_add": {"post": RESULTS},
    "cases:titer_add": {"post": RESULTS},
    "cases:labs_add": {"get": RESULTS, "post": RESULTS},  # GET: the empty panel form
    "cases:document_add": {"post": RESULTS},
    "cases:document": {"get": ALL},
    "cases:audit": {"get": ("manager",)},
    "cases:infusion": {"get": ("coordinator", "physician", "manager", "admin")},
    "cases:infusion_record": {"post": CLINICAL},
    "cases:infusion_override": {"post": ("physician",)},
    "cases:infusion_sign": {"post": ("physician",)},
    "cases:infusion_amend": {"post": CLINICAL},
    "billing:claim": {"get": ALL},
    "billing:claim_csv": {"get": ALL},
    "billing:claim_pdf": {"get": ALL},
    "billing:claim_x12": {"get": ALL},
    "billing:pa_start": {"post": BILLING},
    "billing:pa_details": {"get": BILLING, "post": BILLING},
    "billing:pa_move": {"get": BILLING, "post": BILLING},
    "billing:packet_generate": {"post": BILLING},
    "billing:packet_download": {"get": ALL},
    "billing:onegene": {"get": ("coordinator", "billing", "admin"), "post": ("coordinator", "billing", "admin")},
    "monitoring:draw": {"get": ALL, "post": CLINICAL},
    "monitoring:draw_missed": {"post": CLINICAL},
    "monitoring:steroids": {"get": ALL, "post": ("physician",)},
    "monitoring:milestone": {"get": ALL, "post": CLINICAL},
    "monitoring:chart": {"get": ALL},
    "monitoring:case_ics": {"get": ALL},
    "monitoring:reminder_acknowledge": {
        "get": ("coordinator", "manager", "admin"),
        "post": ("coordinator", "manager", "admin"),
    },
}


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    site_id: int
    markers: tuple[str, ...]


def _targets() -> list[Target]:
    from billing.models import PAPacket
    from cases.models import Case, Document
    from monitoring.models import Draw, Milestone

    out = []
    for case in Case.objects.select_related("patient").filter(infusion_record__isnull=False):
        marks = (case.patient.legal_name, case.patient.mrn)
        for name in SPEC:
            kwargs = {"pk": case.pk}
            if name == "cases:document":
                doc = Document.objects.filter(case=case).first()
                if doc is None:
                    continue
                kwargs["document_pk"] = doc.pk
            elif name == "billing:packet_download":
                packet = PAPacket.objects.filter(case=case).first()
                if packet is None:
                    continue
                kwargs = {"packet_pk": packet.pk}
            elif name in ("monitoring:draw", "monitoring:draw_missed", "monitoring:reminder_acknowledge"):
                kwargs = {"draw_pk": Draw.objects.filter(case=case).order_by("due_on").first().pk}
            elif name == "monitoring:milestone":
                kwargs = {"milestone_pk": Milestone.objects.filter(case=case).first().pk}
            elif name == "monitoring:chart":
                kwargs["chart"] = "liver"
            out.append(Target(name, reverse(name, kwargs=kwargs), case.site_id, marks))
    # Packets exist for cases before infusion too.
    for packet in PAPacket.objects.select_related("case__patient"):
        marks = (packet.case.patient.legal_name, packet.case.patient.mrn)
        out.append(
            Target(
                "billing:packet_download",
                reverse("billing:packet_download", args=[packet.pk]),
                packet.case.site_id,
                marks,
            )
        )
    return out


def test_access_is_allowed_exactly_when_sites_and_role_allow_and_refusals_carry_no_patient_data(db):
    seed_world()
    users = list(get_user_model().objects.filter(memberships__isnull=False).distinct().order_by("username"))
    targets = _targets()
    sites = {t.site_id for t in targets}
    assert len(sites) == 2, "the demo world has objects at both sites"
    covered = {t.name for t in targets}
    assert covered == set(SPEC), f"no demo object for {set(SPEC) - covered}"

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.sampled_from(users), st.sampled_from(targets), st.sampled_from(["get", "post"]))
    def check(user, target, method):
        client = Client()
        client.force_login(user)
        response = getattr(client, method)(target.path, {"reason": "x", "note": "x"})
        if response.status_code == 405:
            assert method not in SPEC[target.name], (target.name, method)
            return
        body = response.content.decode(errors="replace") if not response.streaming else ""
        in_site = target.site_id in user_site_ids(user)
        role_ok = bool(user_roles(user) & set(SPEC[target.name].get(method, ())))
        if not in_site:
            assert response.status_code == 404, (user.username, target.name, method, response.status_code)
        elif not role_ok:
            assert response.status_code == 403, (user.username, target.name, method, response.status_code)
        else:
            assert response.status_code not in (403, 404), (user.username, target.name, method, response.status_code)
        if response.status_code in (403, 404):
            for marker in target.markers:
                assert marker not in body, (user.username, target.name, method)

    check()
