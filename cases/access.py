"""Case access: every case query starts here, limited to the user's sites (accounts.access)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.db.models.signals import pre_save
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


def record_case_viewed(case: Case) -> None:
    """An access entry for ``case``: a page shows its patient's data (the draw, milestone and
    acknowledge pages reach the case through their own object)."""
    accessed.send(sender=Case, instance=case)


def record_cases_viewed(case_ids) -> None:
    """One access entry per case a list shows (case list, worklists, dashboard, home page),
    written in one statement (issue 13 item 8: a page that shows a patient's name is a view).

    Each entry is what ``accessed.send`` writes for a case: the same action, repr and
    ``case_id``; ``pre_save`` is sent for each, so auditlog's request context fills in the actor
    and address as for any other entry (bulk_create sends no signals itself).
    """
    pks = sorted({int(pk) for pk in case_ids})
    if not pks:
        return
    content_type = ContentType.objects.get_for_model(Case)
    cid = get_cid()
    entries = []
    for pk in pks:
        entry = LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk,
            object_repr=f"Case {pk}",
            action=LogEntry.Action.ACCESS,
            additional_data={"case_id": pk},
            cid=cid,
        )
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using="default", update_fields=None)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries)
