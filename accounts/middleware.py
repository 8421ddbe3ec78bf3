"""Session timeouts (idle logout after 15 minutes, absolute logout after 12 hours) and the
sign-in requirement, each answering htmx requests in a way htmx will not swap into a fragment.

Background polls (htmx elements that refresh themselves) send ``X-GeneGate-Background: 1`` and do
not count as activity, so a dashboard left open does not keep a session alive forever.

An htmx request (a badge's poll, a dashboard region) that must go to a sign-in page gets
``204 No Content`` with ``HX-Redirect``: htmx swaps nothing and sends the whole page there. A
plain redirect would be followed inside the request and the sign-in page inserted into the
fragment, again at every poll.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone


def is_htmx(request) -> bool:
    # Read from the header: django-htmx's middleware (request.htmx) runs after these.
    return bool(request.headers.get("HX-Request"))


def htmx_redirect(url: str) -> HttpResponse:
    """Send the whole page to ``url``; swap nothing into the element that asked."""
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response


def page_path(request) -> str:
    """The path of the page the user is on: for htmx, the page that made the request (its
    ``HX-Current-URL``), not the fragment's URL; only a path, never another host."""
    if is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.path.startswith("/") and not current.path.startswith("//"):
            return current.path + (f"?{current.query}" if current.query else "")
        return "/"
    return request.get_full_path()


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's: every view needs a signed-in user unless marked login_not_required; an htmx
    request of a signed-out visitor sends the page to the sign-in form."""

    def handle_no_permission(self, request, view_func):
        if not is_htmx(request):
            return super().handle_no_permission(request, view_func)
        login_url = resolve_url(self.get_login_url(view_func))
        target = redirect_to_login(page_path(request), login_url, self.get_redirect_field_name(view_func))
        return htmx_redirect(target["Location"])


LOGIN_AT = "genegate_login_at"
LAST_SEEN = "genegate_last_seen"
ACTIVITY_RESOLUTION_SECONDS = 15


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            if LOGIN_AT not in request.session:
                # First request of this session (the login itself ran before it was signed in).
                request.session[LOGIN_AT] = request.session[LAST_SEEN] = now
            login_at = request.session[LOGIN_AT]
            last_seen = request.session.get(LAST_SEEN, now)
            idle = now - last_seen
            if idle > settings.SESSION_IDLE_TIMEOUT.total_seconds():
                return self._expire(request, "You were signed out after 15 minutes without activity.")
            if now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
                return self._expire(request, "You were signed out: sessions last at most 12 hours.")
            # Write the session at most every 15 s: a save per request costs a database write.
            if request.headers.get("X-GeneGate-Background") != "1" and idle > ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    def _expire(self, request, message: str):
        logout(request)
        messages.info(request, message)
        if is_htmx(request):
            return htmx_redirect(settings.LOGIN_URL_PATH)
        return redirect(settings.LOGIN_URL_PATH)


def mark_login(sender, request, user, **kwargs) -> None:
    """Start both clocks at sign-in (connected in common.apps)."""
    now = timezone.now().timestamp()
    request.session[LOGIN_AT] = request.session[LAST_SEEN] = now


class NoStoreForSignedInMiddleware:
    """Every response to a signed-in user carries ``Cache-Control: no-store, private`` (issue 13
    item 6): pages, CSVs, PDFs, calendars and redirects may all hold patient data, and neither a
    shared proxy nor the browser's disk cache may keep them. One place, so a new view cannot
    forget it; a view's own weaker header (``max-age``, ``public``) is replaced, not merged.

    Sits right after AuthenticationMiddleware, so its response side also covers the answers
    the session time-out and two-factor middleware give. A user signed in at the start of the
    request (sign-out answers too) or at its end (the sign-in redirect) counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if signed_in or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store, private"
            response.headers.pop("Expires", None)
        return response
