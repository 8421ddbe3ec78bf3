"""The one place that scopes patient data to the user's sites, and role checks.

Views fetch objects through ``_get_<model>_for_user`` helpers built on these functions, so
another site's object is a 404 (never a 403 that would confirm it exists).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def user_site_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Return the ids of the sites the user belongs to (cached on the user for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_genegate_site_ids", None)
    if cached is None:
        from cases.models import Membership

        cached = frozenset(Membership.objects.filter(user=user).values_list("site_id", flat=True))
        user._genegate_site_ids = cached
    return cached


def user_roles(user: AbstractBaseUser) -> frozenset[str]:
    """Return the user's role names (auth Group names), cached on the user."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_genegate_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._genegate_roles = cached
    return cached


def has_role(user: AbstractBaseUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def require_role(user: AbstractBaseUser, *roles: str) -> None:
    """Raise PermissionDenied unless the user has one of ``roles``.

    Call this only after the object was fetched through the site-scoped helper, so a user of
    another site gets a 404 first and learns nothing from the 403.
    """
    if not has_role(user, *roles):
        raise PermissionDenied("Your role does not allow this action.")


def scope_to_sites(qs: QuerySet, user: AbstractBaseUser, site_field: str = "site") -> QuerySet:
    """Limit ``qs`` to rows whose ``site_field`` is one of the user's sites."""
    return qs.filter(**{f"{site_field}__in": user_site_ids(user)})


def cases_for(user: AbstractBaseUser) -> QuerySet:
    """Every case query starts here."""
    from cases.models import Case

    return scope_to_sites(Case.objects.all(), user)


def sites_for(user: AbstractBaseUser) -> QuerySet:
    from cases.models import Site

    return Site.objects.filter(pk__in=user_site_ids(user))


def users_at_sites(site_ids: Iterable[int], role: str) -> QuerySet:
    """Active users with ``role`` at any of ``site_ids``."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role, memberships__site_id__in=list(site_ids))
        .distinct()
    )


def get_case_for_user(request, pk: int, *, prefetch=None, viewed: bool = True):
    """The case ``pk`` if it is at one of the user's sites, else Http404 (no hint it exists).

    ``prefetch`` adds select/prefetch to the scoped queryset; ``viewed`` records the view in
    the audit trail (HIPAA §164.312(b)). Each app's ``_get_case_for_user`` calls this.
    """
    from auditlog.signals import accessed
    from django.shortcuts import get_object_or_404

    from cases.models import Case

    qs = cases_for(request.user)
    case = get_object_or_404(prefetch(qs) if prefetch else qs, pk=pk)
    if viewed:
        accessed.send(sender=Case, instance=case)
    return case
