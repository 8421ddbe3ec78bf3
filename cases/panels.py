"""The case page is assembled from panels, one per app, so each app owns its part.

Apps above cases (billing, monitoring) cannot be imported from here, so each registers its
panel from its AppConfig.ready(); cases registers the infusion day's the same way. A panel
function takes (request, case) and returns (template_name, context); the page includes the
templates in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., tuple[str, dict]]
_PANELS: dict[str, tuple[int, Panel]] = {}

# Page order of the known panels: prior authorization first, then the infusion day, then
# post-infusion monitoring.
BILLING, INFUSION, MONITORING = 10, 20, 30


def register_panel(name: str, order: int, panel: Panel) -> None:
    """Add (or replace) the panel called ``name`` at position ``order`` on the case page."""
    _PANELS[name] = (order, panel)


def panel_contexts(request, case) -> list[tuple[str, dict]]:
    """Return [(template_name, context)] for every panel, in page order."""
    return [panel(request, case) for _order, panel in sorted(_PANELS.values(), key=lambda item: item[0])]
