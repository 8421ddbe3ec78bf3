"""Every URL pattern of the project, with its parameters filled, for the access tests."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

# Admin, auth and static pages are Django's own; the login page and /healthz are public; the
# results inbox's FHIR endpoint takes a per-site bearer token instead of a session
# (tests/inbox/test_fhir.py checks it refuses anything else).
SKIP_PREFIXES = ("admin/",)
PUBLIC = {"login", "healthz", "monitoring:inbox_fhir"}


def iter_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from iter_patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None, p


def project_urls(ids: dict[str, int]):
    """Yield (name, path) for every project URL; ``<int:x>`` parameters are filled from ids
    (by parameter name, falling back to ids['pk'])."""
    import re

    for route, name, _pattern in iter_patterns():
        if route.startswith(SKIP_PREFIXES) or name is None or name in PUBLIC:
            continue

        def fill(m):
            kind, param = m.group(1), m.group(2)
            value = ids.get(param, ids.get("pk", 1))
            return str(value) if kind in ("int", None) else str(value)

        path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)
        path = path.replace("^", "").replace("$", "")
        yield name, route, path
