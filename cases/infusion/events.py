"""Events the infusion day announces to the apps above it.

Cases sits below monitoring and billing, so it never calls them: it sends a signal, and each app
that must act connects a receiver in its own ``signals.py`` (monitoring creates the post-infusion
schedule). Receivers run synchronously inside the sender's transaction.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent once, when the physician signs the infusion record, with
# record=InfusionRecord, case=Case, infused_on=date, today=date. A receiver may return a list
# of the objects it created (monitoring returns the draws).
infusion_signed = Signal()

# Sent when an amendment is added to a signed record (inside the amendment's transaction), with
# record=InfusionRecord (the new version), case=Case, amendment=InfusionAmendment, by=User.
# Billing rebuilds the claim from the amended record (billing/signals.py).
infusion_amended = Signal()
