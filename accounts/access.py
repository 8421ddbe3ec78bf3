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
    return _cached_sites(user, "_genegate_site_ids")


def user_site_zones(user: AbstractBaseUser) -> frozenset[str]:
    """Return the time zones (IANA names) of the user's sites, cached with their ids."""
    return _cached_sites(user, "_genegate_site_zones")


def _cached_sites(user: AbstractBaseUser, attribute: str) -> frozenset:
    if not user.is_authenticated:
        return frozenset()
    if getattr(user, attribute, None) is None:
        _load_sites(user)
    return getattr(user, attribute)


def user_roles(user: AbstractBaseUser) -> frozenset[str]:
    """Return the user's role names (auth Group names), cached on the user."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_genegate_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._genegate_roles = cached
    return cached


def _load_sites(user: AbstractBaseUser) -> None:
    # One query fills both caches: the site ids every scoped query uses and the sites' zones
    # the time-zone middleware needs, so naming the zone costs a page no query.
    rows = list(Membership.objects.filter(user=user).values_list("site_id", "site__timezone"))
    user._genegate_site_ids = frozenset(site_id for site_id, _ in rows)
    user._genegate_site_zones = frozenset(zone for _, zone in rows)


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
