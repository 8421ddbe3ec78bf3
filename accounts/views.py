"""Session views that are not sign-in itself (sign-in and two-factor: accounts.two_factor)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_POST


@require_POST
def keepalive(request):
    """'Stay signed in' from the idle warning: the request itself refreshes the session."""
    return HttpResponse(status=204)
