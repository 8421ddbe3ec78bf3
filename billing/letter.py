"""The letter of medical necessity: the facts it states and the text GeneGate drafts, as pure
functions over a PA packet snapshot (billing.packet.packet_snapshot), so the letter and the packet
state the same facts. Workflows (versions, signing) are billing/lmn.py.

What a payer's medical reviewer looks for in the prescriber's letter (payer criteria in
docs/domain.md §2, §13c; Novartis publishes an LMN guide with the same headings): diagnosis and
genetic confirmation, SMN2 copy number, age and weight with dates, the anti-AAV9 titer, baseline
labs, motor function and symptom onset, treatment history, why this therapy now, and the steroid
and monitoring plan the boxed warning requires. Three variants follow the PA history: an initial
request, a reconsideration after a denial (quotes the reason, says what is new since), and a
post-service request for an infusion already given.

Sources printed in the letter are public: FDA label sections, ICD-10-CM, the payer's policy,
Glascock et al. 2018 (treatment timing by SMN2 copies, docs/domain.md §10).
"""

from __future__ import annotations

import hashlib
import json

from common.typeset import typeset_text
from common.wording import plain

INITIAL, APPEAL, RETRO = "initial", "appeal", "retro"
KINDS = (INITIAL, APPEAL, RETRO)


# --- Facts ---------------------------------------------------------------------------------------
def _or(value, missing: str = "not recorded") -> str:
    return str(value) if value not in (None, "") else missing


def _labs_text(labs: list[dict]) -> str:
    if not labs:
        return "not on file"
    parts = []
    for lab in labs:
        limit = f"{lab['limit_label']} {lab['limit']}" if lab.get("limit") else "limit not reported"
        parts.append(f"{lab['analyte']} {lab['value']} {lab['unit']} ({limit}; {lab['drawn_on']})")
    return typeset_text("; ".join(parts))


def _therapies_text(s: dict) -> str:
    therapies = s["clinical"]["therapies"]
    if not therapies:
        return "none"
    return "; ".join(
        f"{t['drug']} from {t['started_on']}" + (f" to {t['stopped_on']}" if t["stopped_on"] else " (ongoing)")
        for t in therapies
    )


def _diagnosis_text(s: dict) -> str:
    codes = ", ".join(f"{c['code']} ({c['descriptor']})" for c in s["service"]["icd10"]) or "no ICD-10-CM code"
    return f"{s['clinical']['sma_label']}; ICD-10-CM {codes}"


def letter_facts(s: dict) -> list[list[str]]:
    """Return the [label, value] pairs the letter states, from a packet snapshot ``s``.

    Only facts of the case and its plan, never the day the letter is printed, so the same case
    gives the same facts until something on it changes.
    """
    p, g, w, r = s["patient"], s["genetics"], s["weight"], s["request"]
    titer = s["titers"][0] if s["titers"] else None
    kit = s["service"]["kit"]
    facts = [
        ["Request", r["summary"]],
        ["Patient", f"{p['name']}, born {p['date_of_birth']}, {p['sex'].lower()}"],
        [
            "Member ID",
            _or(s["coverage"]["member_id"])
            + (f" ({s['coverage']['plan_name']})" if s["coverage"]["plan_name"] else ""),
        ],
        ["Diagnosis", _diagnosis_text(s)],
        ["Clinical status", s["clinical"]["status_text"]],
        [
            "Genetic confirmation",
            f"{_or(g['genotype'])} by {_or(g['method'], 'an unrecorded method')}, report dated {_or(g['report_date'])}",
        ],
        ["SMN2 copy number", _or(g["smn2_copies"])],
        [
            "Age on the infusion date",
            f"{p['age_on_infusion']} on {s['gate_on']} (labeled through {p['last_labeled_day']})",
        ],
        ["Gestational age at birth", p["gestational_age"]],
        [
            "Weight",
            f"{w['kg']} kg on {w['measured_on']}" + (f"; kit {kit['ndc']} for the {kit['band']} band" if kit else "")
            if w["kg"]
            else "not on file",
        ],
        [
            "Anti-AAV9 antibody titer",
            f"{titer['result']} by {titer['method']} on {titer['drawn_on']} ({titer['lab']})"
            if titer
            else "not on file",
        ],
        ["Baseline laboratory results", _labs_text(s["labs"])],
        ["Motor function", s["clinical"]["motor_text"]],
        ["Respiratory status", s["clinical"]["respiratory_text"]],
        ["Previous SMA treatment", _therapies_text(s)],
        ["Prior Zolgensma", "yes" if s["clinical"]["prior_j3399"] else "none"],
        ["Corticosteroid plan", s["steroid"]["plan_text"]],
        ["Monitoring plan", s["monitoring"]["plan_text"]],
        [
            "Prescriber",
            f"{_or(s['physician']['name'])}, {_or(s['physician']['specialty'], 'specialty not recorded')}, "
            f"NPI {_or(s['physician']['npi'])}",
        ],
    ]
    # Dates in the screen's words ("3 Dec 2026") and ≤ / ≥, as everywhere a person reads.
    return [[label, plain(value)] for label, value in facts]


def letter_basis(s: dict) -> dict:
    """The raw values behind the letter's facts (no wording), so a change of how GeneGate words a
    fact never asks for a new signature; a change of a value always does."""
    return {
        "request": [s["request"]["kind"], s["request"].get("denied_on")],
        "patient": [s["patient"][k] for k in ("name", "date_of_birth", "sex", "gestational_age")],
        "coverage": [s["coverage"]["member_id"], s["coverage"]["plan_name"]],
        "diagnosis": [c["code"] for c in s["service"]["icd10"]] + [s["clinical"]["sma_type"]],
        "clinical": [
            s["clinical"][k] for k in ("symptomatic", "nbs_identified", "nbs_date", "tracheostomy", "prior_j3399")
        ]
        + [s["clinical"]["respiratory_support_hours"], s["clinical"]["respiratory_support_days"]]
        + [s["clinical"].get("basis", [])],
        "therapies": s["clinical"]["therapies"],
        "genetics": s["genetics"],
        "infusion_on": s["gate_on"],
        "weight": [s["weight"]["kg"], s["weight"]["measured_on"]],
        "titer": s["titers"][0] if s["titers"] else None,
        "labs": [[lab["analyte"], lab["value"], lab["unit"], lab["drawn_on"]] for lab in s["labs"]],
        "steroid": [s["steroid"]["mg_per_day"], s["steroid"]["start"]],
        "prescriber": [s["physician"]["name"], s["physician"]["npi"], s["physician"]["specialty"]],
    }


def facts_digest(basis: dict) -> str:
    """SHA-256 of the letter's basis (letter_basis) as canonical JSON."""
    payload = json.dumps(basis, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def letter_fingerprint(kind: str, body: str, facts: list[list[str]]) -> str:
    """SHA-256 binding a version's kind, text and facts: what a signature covers."""
    payload = json.dumps([kind, body, facts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def changed_facts(old: list[list[str]], new: list[list[str]]) -> list[str]:
    """Return "Weight: 5.2 kg on … → 5.4 kg on …" for each fact that differs, in the new order."""
    # A version signed before dates were written in words still matches the same dates.
    before = {label: plain(value) for label, value in old}
    after = dict(new)
    out = [
        f"{label}: {before.get(label, 'not stated')} → {value}" for label, value in new if before.get(label) != value
    ]
    out += [f"{label}: no longer stated" for label in before if label not in after]
    return out


# --- Draft text --------------------------------------------------------------------------------
def _opening(s: dict) -> str:
    p, r = s["patient"], s["request"]
    who = f"my patient {p['name']} (date of birth {p['date_of_birth']}, member ID {_or(s['coverage']['member_id'])})"
    drug = "Zolgensma (onasemnogene abeparvovec-xioi), HCPCS J3399 × 1, a one-time intravenous gene therapy"
    if r["kind"] == APPEAL:
        return (
            f"I am writing to ask you to reconsider your denial, dated {r['denied_on']}, of coverage of {drug} "
            f"for {who}. The denial stated: “{r['denial_reason'].rstrip('.')}.” This letter answers that reason with the "
            "evidence now on file."
        )
    if r["kind"] == RETRO:
        return (
            f"I am writing to request coverage of {drug}, which {p['name']} (date of birth {p['date_of_birth']}, "
            f"member ID {_or(s['coverage']['member_id'])}) received on {s['gate_on']}. The clinical facts below are "
            "those documented before the infusion."
        )
    return f"I am writing to request coverage of {drug} for {who}, planned for {s['gate_on']}."


def _diagnosis(s: dict) -> str:
    p, g, c = s["patient"], s["genetics"], s["clinical"]
    copies = g["smn2_copies"]
    smn2 = f"; {copies} copies of SMN2" if copies is not None else ""
    if g["genotype"]:
        text = (
            f"{p['name']} has {c['sma_words']}, confirmed by {_or(g['method'], 'genetic testing')}: "
            f"{g['genotype']}{smn2}. This meets the labeled indication, spinal muscular atrophy with bi-allelic "
            "mutations in the SMN1 gene (FDA label §1)."
        )
    else:
        # Never claim the indication is met without the genotype that shows it.
        text = (
            f"{p['name']} has {c['sma_words']}{smn2}. Genetic confirmation of bi-allelic SMN1 mutations, which the "
            "labeled indication requires (FDA label §1), is not yet on file."
        )
    if c["symptomatic"]:
        text += f" {c['onset_sentence']}"
    else:
        text += (
            " The diagnosis was made before symptoms appeared"
            + (f", after newborn screening on {c['nbs_date']}" if c["nbs_identified"] and c["nbs_date"] else "")
            + "."
        )
    return text


def _why_now(s: dict) -> str:
    p, g, c = s["patient"], s["genetics"], s["clinical"]
    copies = g["smn2_copies"]
    sentences = []
    if copies is not None and copies <= 3:
        sentences.append(
            f"With {copies} copies of SMN2, treatment without delay is recommended (Glascock et al., "
            "J Neuromuscul Dis 2018;5:145)."
        )
    sentences.append(
        f"The labeled indication ends before the second birthday: {p['name']} is {p['age_on_infusion']} on the "
        f"infusion date, and the last labeled day is {p['last_labeled_day']} (FDA label §1)."
    )
    if c["motor_text"] and c["motor_text"] != "not recorded":
        sentences.append(f"Baseline motor function: {c['motor_text']}.")
    sentences.append(f"Respiratory status: {c['respiratory_text']}.")
    history = _therapies_text(s)
    sentences.append(
        f"{p['name']} has not received Zolgensma before"
        + ("." if history == "none" else f"; previous SMA treatment: {history}.")
    )
    return " ".join(sentences)


def _evidence(s: dict) -> str:
    w, kit = s["weight"], s["service"]["kit"]
    titer = s["titers"][0] if s["titers"] else None
    parts = []
    if w["kg"]:
        parts.append(
            f"weight {w['kg']} kg on {w['measured_on']}"
            + (
                f", within the labeled 2.6–21.0 kg range (kit {kit['ndc']})"
                if kit
                else ", outside the labeled kit range"
            )
        )
    if titer:
        parts.append(
            f"anti-AAV9 total binding antibody titer {titer['result']} by {titer['method']} on {titer['drawn_on']}"
        )
    parts.append(
        "baseline liver function (ALT, AST, total bilirubin, prothrombin time), creatinine, complete blood count "
        "with hemoglobin and platelets, and troponin-I as the label requires (FDA label boxed warning, §5)"
    )
    return "Pre-treatment assessment: " + "; ".join(parts) + ". The results are enclosed."


def _plan(s: dict) -> str:
    return (
        f"Treatment plan: {s['steroid']['plan_text']}. Monitoring after the infusion: {s['monitoring']['plan_text']}."
    )


def _appeal_new(s: dict) -> str:
    r = s["request"]
    if r["kind"] != APPEAL:
        return ""
    new = r["new_since"]
    if not new:
        return "No new results have been added since the denial; the enclosed records answer the stated reason."
    return "New since the denial: " + "; ".join(new) + "."


def _closing(s: dict) -> str:
    site = s["site"]
    contact = ", ".join(
        x for x in (f"phone {site['phone']}" if site["phone"] else "", f"fax {site['fax']}" if site["fax"] else "") if x
    )
    return (
        "I attest that this treatment is medically necessary for my patient, that the information in this letter "
        "is accurate and supported by the enclosed records, and that I am the prescribing physician."
        + (f" Please contact me at {site['name']}, {contact}, with any question." if contact else "")
    )


def draft_letter(s: dict) -> str:
    """Return the drafted letter text (paragraphs separated by a blank line) for snapshot ``s``."""
    paragraphs = [
        _opening(s),
        _diagnosis(s),
        _why_now(s),
        _evidence(s),
        _appeal_new(s),
        _plan(s),
        _closing(s),
    ]
    return plain("\n\n".join(p for p in paragraphs if p))


def paragraphs(body: str) -> list[str]:
    """Split a letter's text into paragraphs (blank lines), keeping line breaks inside each."""
    return [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
