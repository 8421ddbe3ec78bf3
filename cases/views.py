"""Case views. Each view: decorators → access helper → form → save → response."""

from __future__ import annotations

from auditlog.signals import accessed
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from cases.models import Case
from cases.panels import panel_contexts
from common.access import cases_for


def _get_case_for_user(request, pk: int) -> Case:
    """The case, if it belongs to one of the user's sites; 404 otherwise. Records the view."""
    case = get_object_or_404(cases_for(request.user).select_related("patient", "site"), pk=pk)
    accessed.send(sender=Case, instance=case)
    return case


def case_list(request):
    cases = cases_for(request.user).select_related("patient", "site")
    q = request.GET.get("q", "").strip()
    if q:
        cases = cases.filter(Q(patient__legal_name__icontains=q) | Q(patient__mrn__iexact=q))
    page = Paginator(cases.order_by("patient__legal_name"), 25).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {"page": page, "cases": page.object_list, "q": q})


def case_detail(request, pk: int):
    case = _get_case_for_user(request, pk)
    panels = panel_contexts(request, case)
    return render(request, "cases/case_detail.html", {"case": case, "panels": panels})
