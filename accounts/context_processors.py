from __future__ import annotations

from django.conf import settings

from accounts.access import user_roles
from accounts.permissions import Permissions
from accounts.two_factor import fully_signed_in


def navigation(request):
    """Expose what the signed-in user may do (``can.<action>``, asked of the permission table
    in accounts.permissions), their role names for display, the idle-timeout figures for the
    sign-out warning, and ``signed_in``: the second factor is verified too (or not required), so
    the navigation and the notification badge's poll may show; before that only sign-out does."""
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else frozenset()
    return {
        "can": Permissions(user) if user is not None and user.is_authenticated else {},
        "user_roles": sorted(roles),
        "signed_in": fully_signed_in(user),
        "idle_timeout_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "idle_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
    }
