"""What a scheduled draw checks: the one vocabulary of draw kinds, used by the Draw model's
choices, the protocol, the worklist, the dashboard, e-mails, calendars and the PA packet.

Sources: FDA label §5.1 (liver function), §5 (platelets and TMA; troponin-I), §2.1 (the
end-of-course steroid review); docs/domain.md §4.
"""

from __future__ import annotations

from django.db import models


class DrawKind(models.TextChoices):
    LIVER = "liver", "Liver panel"
    PLATELETS = "platelets", "Platelet count"
    TROPONIN = "troponin", "Troponin-I"
    STEROID_REVIEW = "steroid_review", "Steroid review"


# What each kind checks, in full, for documents a reader outside the clinic reads (calendar,
# PA packet): the same kinds, spelled out.
KIND_DETAILS: dict[str, str] = {
    DrawKind.LIVER: "Liver panel (clinical exam, ALT, AST, total bilirubin, prothrombin time or INR)",
    DrawKind.PLATELETS: "Platelet count with hemoglobin (TMA surveillance)",
    DrawKind.TROPONIN: "Troponin-I",
    DrawKind.STEROID_REVIEW: "Steroid review at the end of the course (liver check before any taper)",
}


def kind_label(kind: str) -> str:
    """The short label of a draw kind ("Liver panel"); an unknown kind is shown as stored."""
    try:
        return DrawKind(kind).label
    except ValueError:
        return kind
