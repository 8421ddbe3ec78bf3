"""The one permission table: which roles may take each action.

Every view, panel and template asks ``can(user, action)`` (or ``require(user, action)``), so a
role decision is found here in one hop from the action's name. No role string appears anywhere
else in the code. Object access (which *site's* data a user sees) is decided first, by
``accounts.access``: a user of another site gets a 404 before any role is asked.

Roles are auth Groups named by ``Role`` (a staff member holds the same role at each site they
belong to); ``can(user, action, site)`` also requires membership of ``site`` when one is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from accounts.access import user_roles, user_site_ids
from accounts.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

C, P, B, M, A = Role.COORDINATOR, Role.PHYSICIAN, Role.BILLING, Role.MANAGER, Role.ADMIN
EVERYONE = (C, P, B, M, A)

# action → roles that may take it. Keep the comment: it is what a reader looks for.
PERMISSIONS: dict[str, tuple[Role, ...]] = {
    # Cases: intake and the pre-treatment record (cases/views.py)
    "edit_case": (C, A),  # open a case, edit intake facts, start gating
    "enter_pretreatment_results": (C, P, A),  # weights, titers, baseline labs, documents
    "read_case_audit": (M,),  # a case's whole audit history
    "stage_schedule": (C, P, A),  # confirm the infusion as scheduled
    "stage_follow_up": (P, A),  # lab monitoring complete → follow-up
    "stage_close": (P, M, A),  # close the case
    # Infusion day (cases/infusion/)
    "open_infusion_day": (C, P, M, A),
    "enter_infusion": (C, P),  # the infusion record and its amendments
    "edit_infusion_plan": (C, P, A),  # the planned infusion date and steroid start, from the infusion page
    "sign_infusion": (P,),  # sign the record; override a blocking gate with a reason
    "record_clinical_status": (P,),  # no active infection, clinically stable (label §5), before signing
    # Claims (billing/claims/)
    "read_claim": (C, P, B, M, A),
    # Prior authorization and reference data (billing/)
    "read_billing": EVERYONE,  # payer list, PA history, packets
    "manage_pa": (B, A),  # PA status, packets
    "read_billing_desk": (B, M, A),  # the billing desk: PAs to submit, decisions due, denials, claim errors
    "billing_desk_home": (B,),  # the billing desk is the home page (others keep the coordinator's worklist)
    "record_enrollment": (C, B, A),  # OneGene enrollment
    "edit_reference_data": (A,),  # payers and policies, prices, support programs
    "edit_lmn": (P,),  # edit the letter of medical necessity (GeneGate drafts it)
    "sign_lmn": (P,),  # sign it with their password (the case's ordering physician only)
    # Monitoring (monitoring/)
    "enter_monitoring_results": (C, P),  # results, missed draws, milestone assessments
    "decide_steroids": (P,),  # steroid review decisions
    "acknowledge_result_flag": (P,),  # acknowledge an urgent or abnormal result with a plan
    "edit_protocol": (A,),  # new monitoring protocol versions
    # Results inbox: lab messages in (monitoring/inbox/)
    "read_results_inbox": (C, P, M, A),  # the inbox list and a message's outcome
    "review_results_inbox": (C, P),  # upload files, pick the draw, process again
    # Reminders and the overdue-labs dashboard (monitoring/reminders/)
    "read_overdue_dashboard": (M, A),
    "acknowledge_overdue": (C, M, A),  # acknowledge or snooze an overdue draw
    "edit_reminder_routes": (M, A),
    "receive_reminders": (C, P, M, A),  # roles a reminder route may name
}


def roles_for(action: str) -> tuple[Role, ...]:
    """Return the roles allowed to take ``action`` (KeyError for an unknown action: a typo
    must fail loudly in tests, not silently deny)."""
    return PERMISSIONS[action]


def can(user: AbstractBaseUser, action: str, site=None) -> bool:
    """True when ``user`` holds a role allowed to take ``action`` (at ``site``, when given)."""
    allowed = roles_for(action)
    if not user_roles(user) & set(allowed):
        return False
    if site is not None:
        site_id = site if isinstance(site, int) else site.pk
        return site_id in user_site_ids(user)
    return True


def require(user: AbstractBaseUser, action: str, site=None) -> None:
    """Raise PermissionDenied unless ``can(user, action, site)``.

    Call this only after the object was fetched through the site-scoped helper, so a user of
    another site gets a 404 first and learns nothing from the 403.
    """
    if not can(user, action, site):
        raise PermissionDenied("Your role does not allow this action.")


class Permissions:
    """``perms.read_overdue_dashboard`` in templates: the same table, asked by attribute."""

    def __init__(self, user):
        self._user = user

    def __getattr__(self, action: str) -> bool:
        if action.startswith("_"):
            raise AttributeError(action)
        return can(self._user, action)
