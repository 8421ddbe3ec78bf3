"""What the case page says about the gate: the report, the feasible window in words.

Reads the gate (cases.eligibility via cases.gate_facts); decides nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cases.eligibility import FeasibleWindow, GateReport, evaluate_gate, feasible_window
from cases.gate_facts import case_gate, facts_for_case, gate_date, policy_for_case
from cases.models import Case
from common.wording import day_text


def day_words(day: date, today: date | None = None) -> str:
    """Return "12 Dec 2026": the one date style of the screens (common.wording)."""
    return day_text(day)


@dataclass(frozen=True)
class GateView:
    report: GateReport
    window: FeasibleWindow
    window_text: str  # "Feasible infusion dates: 1 Dec 2026 to 12 Dec 2026"
    bounds_text: str  # "titer valid for infusion until 12 Dec 2026; second birthday 3 Jan 2028"
    judged_for: str  # "the planned infusion date 5 Dec 2026" / "today (no infusion date planned)"
    warnings: int
    planned_outside_window: bool
    summary: str  # "Ready for PA" / "2 items block"; after infusion, the infusion day's verdict
    payer_summary: str = ""  # "2 met, 1 not met, 1 missing" (the payer's own criteria)


def gate_view(case: Case, today: date) -> GateView:
    """Return the gate for the case page.

    1. The report is judged for the planned infusion date, or today when none (gate_facts.gate_date).
    2. The window (eligibility.feasible_window) lists the dates from today that the documents on
       file support; its bounds are read from a report judged for today (each item's valid_until).
    """
    facts, policy = facts_for_case(case), policy_for_case(case)
    report = case_gate(case, gate_date(case, today))
    window = feasible_window(facts, policy, today)
    now_report = evaluate_gate(facts, policy, today)
    bounds = []
    for item_id, words in (
        ("titer", "titer valid for infusion until"),
        ("weight", "weight current until"),
        ("baseline_labs", "baseline labs current until"),
    ):
        until = now_report.item(item_id).valid_until
        if until is not None and until >= today:
            bounds.append(f"{words} {day_words(until, today)}")
    age = now_report.item("age")
    if age.valid_until is not None:
        bounds.append(f"second birthday {day_words(age.valid_until + timedelta(days=1), today)}")
    if window.is_open:
        assert window.earliest is not None and window.latest is not None
        if window.earliest == window.latest:
            window_text = f"Feasible infusion date: {day_words(window.earliest, today)} only"
        else:
            window_text = (
                f"Feasible infusion dates: {day_words(window.earliest, today)} to {day_words(window.latest, today)}"
            )
    else:
        window_text = "No infusion date works with the documents on file"
    planned = case.planned_infusion_date
    outside = bool(
        planned and planned >= today and window.is_open and not (window.earliest <= planned <= window.latest)  # type: ignore[operator]
    )
    judged_for = (
        f"the planned infusion date {day_words(planned, today)}" if planned else "today (no infusion date planned yet)"
    )
    if case.infused_on:
        judged_for = f"the infusion day, {day_words(case.infused_on, today)} (the record of the pre-treatment checks)"
    return GateView(
        report=report,
        window=window,
        window_text=window_text,
        bounds_text="; ".join(bounds),
        judged_for=judged_for,
        warnings=sum(1 for item in report.items if item.status == "warning"),
        planned_outside_window=outside,
        summary=gate_summary(case, report),
        payer_summary=report.payer_summary,
    )


def gate_summary(case: Case, report: GateReport) -> str:
    """ "Ready for PA" / "2 items block"; once infused the gate is history (judged for the
    infusion day, gate_facts.gate_date), so it says what held on that day, not a step ahead."""
    if not case.infused_on:
        return report.summary
    if report.is_ready:
        return "Met on the infusion day"
    blocking = len(report.blocking_items)
    return f"{blocking} item{'s' if blocking != 1 else ''} not met on the infusion day"
