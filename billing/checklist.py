"""A payer's documentation checklist, judged: each item names what in the packet proves it, and
the packet prints it ☑ met or ☒ not met, never an empty box (issue 17 item 5).

Pure functions over plain values: a checklist item is ``{"text": ..., "evidence": key}``; the
evidence keys are a fixed vocabulary (EVIDENCE), each judged from a PA packet snapshot (the same
gate items, documents and letter the packet prints). An admin writes one item per line as
``key: text`` (billing/forms.py); lists saved before evidence keys existed are read with
``guess_evidence``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """What proves a checklist item: a label for the admin form, and the judge over a snapshot."""

    label: str
    judge: Callable[[dict], tuple[bool, str]]


def _gate(item_id: str, what: str) -> Callable[[dict], tuple[bool, str]]:
    """Met when the gate item ``item_id`` passes; the evidence is its detail line."""

    def judge(s: dict) -> tuple[bool, str]:
        items = [*s["gate"]["items"], *s["gate"].get("payer_items", [])]
        item = next((i for i in items if i.get("id") == item_id), None)
        if item is None:
            return False, f"{what}: not judged"
        return item["status"] == "pass", item["detail"]

    return judge


def _document(kind: str, label: str) -> Callable[[dict], tuple[bool, str]]:
    def judge(s: dict) -> tuple[bool, str]:
        found = [d for d in s["documents"] if d["kind"] == kind]
        if not found:
            return False, f"no {label} appended"
        return True, f"{label} uploaded {found[0].get('uploaded_text') or found[0]['uploaded_on']}, appended"

    return judge


def _genetics(s: dict) -> tuple[bool, str]:
    met, detail = _gate("smn1", "Genetic confirmation")(s)
    has_report, report = _document("genetic_report", "genetic report")(s)
    return met and has_report, f"{detail}; {report}"


def _smn2_type(s: dict) -> tuple[bool, str]:
    copies = s["genetics"]["smn2_copies"]
    codes = ", ".join(c["code"] for c in s["service"]["icd10"])
    met = copies is not None and bool(codes)
    return (
        met,
        f"SMN2 copy number {copies if copies is not None else 'not recorded'}; {s['clinical']['sma_label']}; "
        + (f"ICD-10-CM {codes}" if codes else "no ICD-10-CM code"),
    )


def _monitoring(s: dict) -> tuple[bool, str]:
    visits = s["monitoring"]["visits"]
    if not visits or not s["service"]["planned_infusion_date"] and not s["service"]["infused_on"]:
        return False, "no infusion date to compute the monitoring dates from"
    return True, f"{len(visits)} dated visits from {visits[0]['due_on']} to {visits[-1]['due_on']} (section 9)"


def _specialist(s: dict) -> tuple[bool, str]:
    p = s["physician"]
    if not p["specialty"]:
        return False, "prescriber's specialty not recorded"
    return bool(p.get("sma_specialist")), f"{p['name']}, {p['specialty']}"


def _letter(s: dict) -> tuple[bool, str]:
    lmn = s["lmn"]
    if lmn["signed"] and not lmn["problem"]:
        return True, f"signed by {lmn['signed']['name']} on {lmn['signed']['on']}"
    return False, "not signed by the prescriber"


def _packet(s: dict) -> tuple[bool, str]:
    blocking = s["gate"]["blocking"]
    if blocking:
        return False, "still missing: " + "; ".join(b["title"] for b in blocking)
    return True, "letter, codes, clinical summary, laboratory results, plans and source documents in this packet"


def _payer_criteria(s: dict) -> tuple[bool, str]:
    """Met when every one of the payer's own criteria passes (the packet's payer criteria group)."""
    items = s["gate"].get("payer_items", [])
    if not items:
        return False, "the payer sets no criteria of its own to judge"
    unmet = [i["title"] for i in items if i["status"] != "pass"]
    if unmet:
        return False, "not met: " + "; ".join(unmet)
    return True, f"all {len(items)} of the payer's criteria met (payer criteria in section 3)"


EVIDENCE: dict[str, Evidence] = {
    "genetics": Evidence("Genetic confirmation with the report appended", _genetics),
    "smn2_type": Evidence("SMN2 copy number, SMA type and ICD-10-CM code", _smn2_type),
    "titer": Evidence("Anti-AAV9 titer item of the gate", _gate("titer", "Anti-AAV9 titer")),
    "age": Evidence("Age item of the gate", _gate("age", "Age")),
    "weight": Evidence("Weight and kit item of the gate", _gate("weight", "Weight")),
    "labs": Evidence("Baseline labs item of the gate", _gate("baseline_labs", "Baseline labs")),
    "steroid_plan": Evidence("Corticosteroid plan item of the gate", _gate("steroid_plan", "Corticosteroid plan")),
    "monitoring_plan": Evidence("Dated post-infusion monitoring plan", _monitoring),
    "site_of_care": Evidence("Site-of-care item of the gate", _gate("site_of_care", "Site of care")),
    "specialist": Evidence("Prescriber is a neurologist or neuromuscular specialist", _specialist),
    "advanced_sma": Evidence("Advanced SMA item of the gate", _gate("advanced_sma", "Advanced SMA")),
    "smn_therapy": Evidence("Nusinersen/risdiplam item of the gate", _gate("smn_therapy", "Other SMN therapy")),
    "letter": Evidence("Prescriber's signed letter of medical necessity", _letter),
    "motor": Evidence("Baseline motor assessment item of the gate", _gate("payer_motor", "Baseline motor assessment")),
    "lab_report": Evidence("A lab report document appended", _document("lab_report", "lab report")),
    "other_document": Evidence(
        "A document of kind 'Other' appended (e.g. the payer's own form)", _document("other", "document")
    ),
    "payer_criteria": Evidence("Every one of the payer's own criteria in the gate", _payer_criteria),
    "packet": Evidence("The complete packet: nothing blocks", _packet),
}

KEY_LINE = re.compile(r"^\s*([a-z0-9_-]+)\s*:\s*(.+)$")


def parse_items(lines: list[str]) -> list[dict]:
    """Return ``[{"text", "evidence"}]`` from ``key: text`` lines; ValueError naming the first line
    whose key is missing or unknown."""
    items = []
    for line in lines:
        match = KEY_LINE.match(line)
        key = match[1].replace("-", "_") if match else None
        if key not in EVIDENCE:
            raise ValueError(
                f"“{line[:40]}”: start the line with what proves it, then a colon, e.g. “titer: Anti-AAV9 titer "
                f"≤ 1:50 by ELISA”. One of: {', '.join(proof_word(k) for k in EVIDENCE)}."
            )
        items.append({"text": match[2].strip(), "evidence": key})
    return items


def as_lines(items: list) -> list[str]:
    """The admin form's ``key: text`` lines for stored items (old plain strings get a guessed key)."""
    return [f"{proof_word(i['evidence'])}: {i['text']}" for i in normalize_items(items)]


def proof_word(key: str) -> str:
    """The word an admin types for an evidence key: "site-of-care" for ``site_of_care`` (screens
    show no snake_case keys; both spellings are read back)."""
    return key.replace("_", "-")


# Lists saved before evidence keys: the key guessed from the words, most specific first.
_GUESSES = (
    ("smn2", "smn2_type"),
    ("genetic", "genetics"),
    ("titer", "titer"),
    ("aav9", "titer"),
    ("monitoring", "monitoring_plan"),
    ("glucocorticoid", "steroid_plan"),
    ("steroid", "steroid_plan"),
    ("prednisolone", "steroid_plan"),
    ("baseline", "labs"),
    ("weight", "weight"),
    ("advanced", "advanced_sma"),
    ("tracheostomy", "advanced_sma"),
    ("nusinersen", "smn_therapy"),
    ("risdiplam", "smn_therapy"),
    ("specialist", "specialist"),
    ("neurolog", "specialist"),
    ("site-of-care", "site_of_care"),
    ("site of care", "site_of_care"),
    ("certified", "site_of_care"),
    ("care center", "site_of_care"),
    ("medical necessity", "letter"),
    ("motor", "motor"),
    ("chop", "motor"),
    ("packet", "packet"),
)


def guess_evidence(text: str) -> str:
    """The evidence key an old plain checklist line most likely means ("other_document" if none)."""
    low = text.lower()
    if re.search(r"\bage\b", low):
        return "age"
    for word, key in _GUESSES:
        if word in low:
            return key
    return "other_document"


def normalize_items(raw: list) -> list[dict]:
    """Stored checklist entries as ``{"text", "evidence"}`` (plain strings get a guessed key)."""
    out = []
    for entry in raw or []:
        if isinstance(entry, dict) and entry.get("text"):
            key = entry.get("evidence")
            out.append(
                {"text": str(entry["text"]), "evidence": key if key in EVIDENCE else guess_evidence(entry["text"])}
            )
        elif isinstance(entry, str) and entry.strip():
            out.append({"text": entry.strip(), "evidence": guess_evidence(entry)})
    return out


def checklist_marks(raw: list, s: dict) -> list[dict]:
    """Return each checklist item of ``raw`` judged against snapshot ``s``:
    ``{"text", "evidence", "met", "detail"}``."""
    out = []
    for item in normalize_items(raw):
        met, detail = EVIDENCE[item["evidence"]].judge(s)
        out.append({**item, "met": met, "detail": detail})
    return out
