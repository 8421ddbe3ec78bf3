from __future__ import annotations

from django.conf import settings

from accounts.access import user_roles
from accounts.permissions import Permissions


def navigation(request):
    """Expose what the signed-in user may do (``can.<action>``, asked of the permission table
    in accounts.permissions), their role names for display, and the idle-timeout figures for the
    sign-out warning."""
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else frozenset()
    return {
        "can": Permissions(user) if user is not None and user.is_authenticated else {},
        "user_roles": sorted(roles),
        "idle_timeout_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "idle_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
    }
