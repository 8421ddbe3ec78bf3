"""Roles as auth Groups with model permissions.

Views decide actions with the permission table (accounts.permissions.can); the model permissions make the same
roles meaningful in the Django admin, which only admins reach.
"""

from __future__ import annotations

from accounts.models import Role

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.COORDINATOR: [
        "cases.view_case",
        "cases.add_case",
        "cases.change_case",
        "cases.view_patient",
        "cases.add_patient",
        "cases.change_patient",
        "cases.add_weightmeasurement",
        "cases.add_titerresult",
        "cases.add_baselinelab",
        "cases.add_document",
        "cases.add_smntherapy",
        "cases.change_smntherapy",
        "monitoring.view_draw",
        "monitoring.change_draw",
        "monitoring.add_result",
    ],
    Role.PHYSICIAN: [
        "cases.view_case",
        "cases.view_patient",
        "cases.change_case",
        "monitoring.view_draw",
        "monitoring.change_draw",
        "monitoring.add_result",
    ],
    Role.BILLING: ["cases.view_case", "cases.view_patient", "billing.view_payer"],
    Role.MANAGER: ["cases.view_case", "cases.view_patient", "monitoring.view_draw", "monitoring.change_draw"],
    Role.ADMIN: ["*"],
}


def ensure_roles(apps) -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if perms == ["*"]:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
