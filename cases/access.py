"""Case access: every case query starts here, limited to the user's sites (accounts.access)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditlog.signals import accessed
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.access import scope_to_sites
from cases.models import Case

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def cases_for(user: AbstractBaseUser) -> QuerySet:
    """Every case query starts here."""
    return scope_to_sites(Case.objects.all(), user)


def get_case_for_user(request, pk: int, *, prefetch=None, viewed: bool = True):
    """The case ``pk`` if it is at one of the user's sites, else Http404 (no hint it exists).

    ``prefetch`` adds select/prefetch to the scoped queryset; ``viewed`` records the view in
    the audit trail (HIPAA §164.312(b)). Each app's ``_get_case_for_user`` calls this.
    """
    qs = cases_for(request.user)
    case = get_object_or_404(prefetch(qs) if prefetch else qs, pk=pk)
    if viewed:
        accessed.send(sender=Case, instance=case)
    return case
