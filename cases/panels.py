"""The case page is assembled from panels, one per app, so each app owns its part.

Each entry is (template, context function). A context function takes (request, case) and
returns the panel's context; the template is included in cases/case_detail.html in order.
"""

from __future__ import annotations

import importlib

PANELS = [
    "billing.panels.case_panel",
    "cases.infusion_panels.case_panel",
    "monitoring.panels.case_panel",
]


def panel_contexts(request, case) -> list[tuple[str, dict]]:
    """Return [(template_name, context)] for every panel, in page order."""
    out = []
    for dotted in PANELS:
        module_name, func_name = dotted.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        template, context = func(request, case)
        out.append((template, context))
    return out
