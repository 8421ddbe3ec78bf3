"""The one place that scopes data to the user's sites.

Views fetch objects through ``get_<model>_for_user`` helpers built on these functions (e.g.
``cases.access.get_case_for_user``), so another site's object is a 404 (never a 403 that would
confirm it exists). Which *actions* a role may take is ``accounts.permissions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from accounts.models import Membership, Site

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def user_site_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Return the ids of the sites the user belongs to (cached on the user for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_genegate_site_ids", None)
    if cached is None:
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


def scope_to_sites(qs: QuerySet, user: AbstractBaseUser, site_field: str = "site") -> QuerySet:
    """Limit ``qs`` to rows whose ``site_field`` is one of the user's sites."""
    return qs.filter(**{f"{site_field}__in": user_site_ids(user)})


def sites_for(user: AbstractBaseUser) -> QuerySet:
    return Site.objects.filter(pk__in=user_site_ids(user))


def users_at_sites(site_ids: Iterable[int], role: str) -> QuerySet:
    """Active users with ``role`` at any of ``site_ids``."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role, memberships__site_id__in=list(site_ids))
        .distinct()
    )
