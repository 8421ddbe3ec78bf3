"""When the overdue dashboard's cached region must be rendered afresh.

Kept apart from the dashboard's queries so that the workflows and the sweep, which change what
the dashboard shows, can renew it without importing the dashboard (and so without a circle).
"""

from __future__ import annotations

from common.fragments import bump

# The rendered data region is cached per web process (common/fragments.py) under this family;
# dashboard_changed() renews it on every change it shows. The TTL matches the page's own
# minute refresh: the ceiling on staleness for a change no signal reports.
DASHBOARD_FRAGMENTS = "dashboard"
DASHBOARD_TTL_SECONDS = 60


def dashboard_changed(**_kwargs) -> None:
    """Renew the dashboard's cached regions once the current transaction commits (a signal
    receiver for the models it shows, and called after set-based writes)."""
    bump(DASHBOARD_FRAGMENTS)
