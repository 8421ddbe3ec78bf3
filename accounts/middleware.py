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

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, resolve_url
from django.utils import timezone

from accounts.access import user_site_zones


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


class SiteTimeZoneMiddleware:
    """Show times in the zone of the user's site (issue 14 item 8): a coordinator in Chicago
    reads 08:30 CST, not the server's 09:30 EST. A user whose sites lie in several zones keeps
    the server's zone (TIME_ZONE); every time on screen names its zone, so neither is
    ambiguous. Dates that mean a clinic's calendar day (due dates, "today") are computed per
    site elsewhere and do not depend on this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zones = user_site_zones(user) if user is not None and user.is_authenticated else frozenset()
        if len(zones) == 1:
            try:
                timezone.activate(ZoneInfo(next(iter(zones))))
            except (ZoneInfoNotFoundError, ValueError):  # a mistyped zone in the admin: the server's
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# C0 controls except tab, line feed and carriage return; DEL; the C1 controls. NUL reached
# PostgreSQL (which refuses it in text) from a stage note; the others have no place in a name,
# a note or a query either (issue 13 item 7).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)


def _is_secret(key: str) -> bool:
    # A password is compared, never stored as typed: changing it would lock out whoever chose it.
    return "password" in key


def _cleaned(query: QueryDict) -> QueryDict:
    if not any(CONTROL_CHARACTERS.search(text) for key, values in query.lists() for text in (key, *values)):
        return query
    cleaned = QueryDict(mutable=True, encoding=query.encoding)
    for key, values in query.lists():
        if _is_secret(key):
            cleaned.setlist(key, values)
        else:
            cleaned.setlist(strip_control(key), [strip_control(v) for v in values])
    cleaned._mutable = False
    return cleaned


class ControlCharacterMiddleware:
    """Strip control characters from every query parameter, form field and uploaded file name
    before any view or form sees them: one place for every text field, including views that
    read ``request.POST`` directly. Tab, line feed and carriage return stay (text areas).

    ``process_view`` runs after CsrfViewMiddleware has read the form, so a refused upload flood
    (too many files) is still Django's 400 as before.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.GET = _cleaned(request.GET)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            request.POST = _cleaned(request.POST)
            for upload in (u for _key, uploads in request.FILES.lists() for u in uploads):
                name = upload.name or ""
                if CONTROL_CHARACTERS.search(name):
                    upload.name = strip_control(name) or "document"
        return None
