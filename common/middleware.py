"""The product's own 404 and 500 pages even with DEBUG on (the demo, `make run`).

With DEBUG on, Django answers a mistyped URL with its technical page, which lists every URL
pattern, and an error with a traceback. Unless GENEGATE_DEBUG_PAGES is on (developers turn it on
to see those pages), this middleware, outermost, puts the product's 404.html and 500.html in
their place. With DEBUG off Django already uses them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views import defaults


class FriendlyErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not settings.DEBUG or getattr(settings, "GENEGATE_DEBUG_PAGES", False):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        if response.status_code == 404:
            return defaults.page_not_found(request, Http404())
        if response.status_code == 500:
            return defaults.server_error(request)
        return response
