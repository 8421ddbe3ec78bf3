"""Cross-app views: home, health check, session keep-alive."""

from __future__ import annotations

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.access import sites_for


@require_GET
def home(request):
    """The signed-in landing page: the user's sites and their worklist."""
    from common.home import home_context

    context = {"sites": list(sites_for(request.user))}
    context.update(home_context(request))
    return render(request, "home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """JSON with database and Redis reachability: 200 when both answer, 503 otherwise."""
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", **checks}, status=status)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not reachable" for the health check
        return False


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except Exception:
        return False


@require_POST
def keepalive(request):
    """'Stay signed in' from the idle warning: the request itself refreshes the session."""
    return HttpResponse(status=204)
