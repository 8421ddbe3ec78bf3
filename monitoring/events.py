"""Events the monitoring workflows announce, so the reminder outbox can act without the
workflows importing it (monitoring.tasks imports the sweep, which imports the workflows).

Receivers live in monitoring/signals.py and run inside the sender's transaction.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by monitoring.workflows.results_record after a panel's flags were stored (bulk_create
# sends no post_save), with flags=list[Flag]. The receiver enqueues the physician's alert.
flags_raised = Signal()
