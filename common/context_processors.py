from __future__ import annotations

from django.conf import settings

from common.access import user_roles


def navigation(request):
    """Expose the user's roles (for the navigation menu only; permission decisions are made in
    views) and the idle-timeout figures for the sign-out warning."""
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else frozenset()
    return {
        "user_roles": roles,
        "idle_timeout_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "idle_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
    }
