"""The label's post-infusion monitoring protocol, as data.

This module holds no logic beyond validation: `PROTOCOL_V1` is meant to be copied into a
versioned database table, so a clinic can correct a day or a window without a code change.
`monitoring/schedule.py` turns a protocol into dated draws.

Sources (see docs/domain.md):
- Liver function: label §5.1 and boxed warning, "weekly in month 1, then every other week in
  months 2 and 3 ... until results are unremarkable" (docs/domain.md §4, §11.4).
- Platelets: label highlights §2.3/§5, "at least weekly in month 1 and every other week in
  months 2 and 3 ... until back to baseline" (docs/domain.md §4, §11.1).
- Troponin-I: label §5, "weekly in month 1 and monthly in months 2 and 3 ... until back to
  baseline" (docs/domain.md §4, §11.2).
- Steroid end-of-course check: label §2.1, at the end of the 30-day course counted from
  Day -1, i.e. Day 28 (docs/domain.md §3).
- The exact days are not fixed by the label; the reminder days are docs/domain.md §4's suggested
  days [D].
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.kinds import DrawKind

# ± days around each due date in which a draw counts as on time [D]: the label gives no window;
# a 2-day window keeps weekly windows from overlapping (docs/domain.md §4, "suggested reminder days").
DEFAULT_WINDOW_DAYS = 2
# Days after the window closes before a late draw escalates to overdue [D] (product policy).
DEFAULT_GRACE_DAYS = 2
# Cadence of draws after Day 84 while a result is not yet unremarkable / back to baseline:
# "every other week" continues (label §5.1; docs/domain.md §4 "reminders must stay open past D84").
DEFAULT_EXTENSION_INTERVAL_DAYS = 14
# Troponin-I is "monthly in months 2 and 3" (label §5; docs/domain.md §4), so its extension keeps the
# same 28-day cadence as D56 -> D84 rather than the liver/platelet fortnightly one [D].
TROPONIN_EXTENSION_INTERVAL_DAYS = 28

KINDS = tuple(DrawKind.values)  # monitoring.kinds: the one vocabulary of draw kinds


@dataclass(frozen=True)
class Phase:
    """Reason text for draws on days up to and including `through_day` of a row."""

    through_day: int
    reason: str


@dataclass(frozen=True)
class ProtocolRow:
    """One kind of post-infusion check and the days (after the infusion, Day 0) it falls on.

    `extends` says whether draws continue past the last day while results are abnormal;
    `extension_interval_days`, when set, overrides `Protocol.extension_interval_days`.
    `extension_reason` is a template with `{finding}` and `{cadence}` placeholders.
    """

    kind: str
    analytes: tuple[str, ...]
    days: tuple[int, ...]
    source: str
    phases: tuple[Phase, ...]
    extends: bool = True
    extension_interval_days: int | None = None
    extension_reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown protocol kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not self.days:
            raise ValueError(f"Protocol row {self.kind!r} has no days")
        if list(self.days) != sorted(set(self.days)) or self.days[0] < 1:
            raise ValueError(f"Protocol row {self.kind!r}: days must be positive, unique and ascending")
        if not self.source:
            raise ValueError(f"Protocol row {self.kind!r} must name its source")
        if not self.phases or self.phases[-1].through_day < self.days[-1]:
            raise ValueError(f"Protocol row {self.kind!r}: phases must give a reason for every day")
        if self.extension_interval_days is not None and self.extension_interval_days < 1:
            raise ValueError(f"Protocol row {self.kind!r}: extension interval must be at least 1 day")
        if self.extends and "{finding}" not in self.extension_reason:
            raise ValueError(f"Protocol row {self.kind!r}: extension_reason needs a {{finding}} placeholder")

    def reason_for(self, day: int) -> str:
        """Return the reason text of the phase that covers `day`."""
        for phase in self.phases:
            if day <= phase.through_day:
                return phase.reason
        raise ValueError(f"Protocol row {self.kind!r} has no reason for day {day}")


@dataclass(frozen=True)
class Protocol:
    """A versioned post-infusion protocol: its rows, the ± window, grace and extension cadence."""

    version: str
    rows: tuple[ProtocolRow, ...]
    window_days: int = DEFAULT_WINDOW_DAYS
    grace_days: int = DEFAULT_GRACE_DAYS
    extension_interval_days: int = DEFAULT_EXTENSION_INTERVAL_DAYS

    def __post_init__(self) -> None:
        if self.window_days < 0 or self.grace_days < 0:
            raise ValueError("window_days and grace_days must be 0 or more")
        if self.extension_interval_days < 1:
            raise ValueError("extension_interval_days must be at least 1")
        kinds = [row.kind for row in self.rows]
        if len(kinds) != len(set(kinds)):
            raise ValueError(f"Protocol {self.version!r} lists a kind twice: {kinds}")

    def row(self, kind: str) -> ProtocolRow:
        """Return the row for `kind`, or raise ValueError naming the kinds this protocol has."""
        for row in self.rows:
            if row.kind == kind:
                return row
        known = ", ".join(r.kind for r in self.rows)
        raise ValueError(f"Protocol {self.version!r} has no {kind!r} row; it has: {known}")

    def interval_for(self, kind: str) -> int | None:
        """Return the extension interval in days for `kind`, or None if it never extends."""
        row = self.row(kind)
        if not row.extends:
            return None
        return row.extension_interval_days or self.extension_interval_days


_MONTHS_1_TO_3 = (7, 14, 21, 28, 42, 56, 70, 84)

PROTOCOL_V1 = Protocol(
    version="2025-02-label",
    rows=(
        ProtocolRow(
            kind="liver",
            analytes=("alt", "ast", "tbili", "pt"),
            days=_MONTHS_1_TO_3,
            # Row sources are shown on the protocol page: public sources only; docs/domain.md §4, §11.4.
            source="FDA label §5.1, boxed warning (weekly in month 1, "
            "every other week in months 2 and 3, until unremarkable)",
            phases=(
                Phase(28, "Label §5.1: liver panel weekly in month 1"),
                Phase(84, "Label §5.1: liver panel every other week in months 2 and 3"),
            ),
            extension_reason="Extension: {finding}; liver monitoring continues {cadence} "
            "until unremarkable (label §5.1)",
        ),
        ProtocolRow(
            kind="platelets",
            analytes=("platelets", "hemoglobin"),
            days=_MONTHS_1_TO_3,
            # docs/domain.md §4, §11.1
            source="FDA label §2.3, §5 (platelets at least weekly in "
            "month 1, every other week in months 2 and 3, until back to baseline)",
            phases=(
                Phase(28, "Label §5: platelet count weekly in month 1 (TMA surveillance)"),
                Phase(84, "Label §5: platelet count every other week in months 2 and 3"),
            ),
            extension_reason="Extension: {finding}; platelet counts continue {cadence} "
            "until back to baseline (label §5)",
        ),
        ProtocolRow(
            kind="troponin",
            analytes=("troponin_i",),
            days=(7, 14, 21, 28, 56, 84),
            # docs/domain.md §4, §11.2
            source="FDA label §2.3, §5 (troponin-I weekly in month 1, monthly in "
            "months 2 and 3, until back to baseline)",
            phases=(
                Phase(28, "Label §5: troponin-I weekly in month 1"),
                Phase(84, "Label §5: troponin-I monthly in months 2 and 3"),
            ),
            extension_interval_days=TROPONIN_EXTENSION_INTERVAL_DAYS,
            extension_reason="Extension: {finding}; troponin-I continues {cadence} until back to baseline (label §5)",
        ),
        ProtocolRow(
            kind="steroid_review",
            analytes=(),
            days=(28,),
            # docs/domain.md §3
            source="FDA label §2.1 (liver check at the end of the 30-day corticosteroid course counted from Day -1)",
            phases=(
                Phase(
                    28,
                    "Label §2.1: end-of-course liver check (exam and labs) before any steroid taper",
                ),
            ),
            # The taper decision is re-made on each later liver result (monitoring/steroids.py),
            # so the review itself never extends; the liver row does.
            extends=False,
        ),
    ),
)
