"""A payer's answer to a Da Vinci PAS request, read into a decision. Pure functions over bytes and
dicts; billing/pas/workflow.py applies the result to the prior authorization.

A PAS 2.0.1 ClaimResponse (profile-claimresponse) carries, per requested item, an adjudication
with the ``reviewAction`` extension: its ``reviewActionCode`` (X12 306, HCR01: A1 certified in
total, A3 not certified, A4 pended, …), the authorization ``number`` and a ``reasonCode`` (X12 886,
HCR03), and next to it ``itemPreAuthPeriod``. ``outcome`` = error with ``error`` codes (X12 901)
means the payer could not process the request; ``queued`` without a review action means it
has not decided yet (an asynchronous payer: GeneGate asks again with Claim/$inquire).
What a pended answer asks for is read from the CommunicationRequests and Tasks it points to, its
process notes and the review reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from billing.pas import profiles as P
from billing.pas.conformance import response_problems

APPROVED, PENDED, DENIED, ERROR, NONE = "approved", "pended", "denied", "error", "none"
INVALID, REFUSED = "invalid", "refused"


class AnswerError(ValueError):
    """The answer cannot be used: ``outcome`` is "invalid" (not a PAS answer) or "refused" (a PAS
    answer GeneGate will not apply: for another request). The message is for billing staff and
    holds no value from the answer beyond codes."""

    def __init__(self, message: str, outcome: str = INVALID):
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class Answer:
    decision: str  # approved, pended, denied, error, none
    summary: str
    auth_number: str = ""
    valid_from: date | None = None
    valid_through: date | None = None
    payer_reference: str = ""
    reason: str = ""  # the payer's specific reason (denial) or message (error)
    requested: tuple[str, ...] = field(default_factory=tuple)  # what a pended answer asks for
    decided_on: date | None = None
    review_code: str = ""


# --- Reading bytes ---------------------------------------------------------------------------------
def read_json(body: bytes) -> dict:
    """The JSON object in ``body``; AnswerError(invalid) for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise AnswerError("The payer's answer is not valid JSON.") from None
    if not isinstance(data, dict):
        raise AnswerError("The payer's answer is JSON but not a FHIR resource.")
    return data


def bundles_in(resource: dict) -> list[dict]:
    """The Bundles an operation returned: the Bundle itself, or Parameters' ``return`` resources."""
    kind = resource.get("resourceType")
    if kind == "Bundle":
        return [resource]
    if kind == "Parameters":
        found = [
            p["resource"]
            for p in resource.get("parameter") or []
            if isinstance(p, dict) and p.get("name") == "return" and isinstance(p.get("resource"), dict)
        ]
        if all(b.get("resourceType") == "Bundle" for b in found):
            return found
    raise AnswerError(
        f"The payer answered with a {str(kind)[:40] if kind else 'resource of no type'}, not a PAS response Bundle."
    )


def outcome_text(body: bytes) -> str:
    """The diagnostics of an OperationOutcome in an error answer (4xx/5xx), or ""."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return ""
    if not isinstance(data, dict) or data.get("resourceType") != "OperationOutcome":
        return ""
    parts = []
    for issue in data.get("issue") or []:
        if isinstance(issue, dict):
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code") or ""
            if text:
                parts.append(" ".join(str(text).split())[:300])
    return "; ".join(parts[:5])


# --- Identity --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ours:
    """What identifies the request an answer must be about."""

    claim_identifier: dict  # system, value
    item_traces: frozenset[str]
    patient_identifiers: frozenset[str]  # member ID, MRN

    @classmethod
    def of(cls, request: dict) -> Ours:
        claim = next(e["resource"] for e in request["entry"] if e["resource"].get("resourceType") == "Claim")
        traces = {
            (ext.get("valueIdentifier") or {}).get("value", "")
            for item in claim.get("item") or []
            for ext in item.get("extension") or []
            if ext.get("url") == P.EXT_ITEM_TRACE_NUMBER
        }
        patient_url = claim["patient"]["reference"]
        patient = next(e["resource"] for e in request["entry"] if e["fullUrl"] == patient_url)
        return cls(
            claim_identifier=claim["identifier"][0],
            item_traces=frozenset(t for t in traces if t),
            patient_identifiers=frozenset(i.get("value", "") for i in patient.get("identifier") or []),
        )


def _about_us(response: dict, index: dict, ours: Ours) -> bool:
    """True when ``response`` names our request; AnswerError(refused) when it names another one
    or another patient."""
    mine = ours.claim_identifier
    named: list[dict] = []
    request = response.get("request") or {}
    if isinstance(request.get("identifier"), dict):
        named.append(request["identifier"])
    named += [i for i in response.get("identifier") or [] if isinstance(i, dict)]
    same = [i for i in named if i.get("value") == mine["value"] and i.get("system") in (None, mine["system"])]
    traces = {
        (ext.get("valueIdentifier") or {}).get("value")
        for item in response.get("item") or []
        for ext in item.get("extension") or []
        if ext.get("url") == P.EXT_ITEM_TRACE_NUMBER
    } - {None}
    patient = index.get((response.get("patient") or {}).get("reference"))
    if patient is not None:
        theirs = {i.get("value") for i in patient.get("identifier") or [] if isinstance(i, dict)} - {None}
        if theirs and not theirs & ours.patient_identifiers:
            raise AnswerError(
                "This answer is about another patient (its member ID does not match); it was not applied.", REFUSED
            )
    if same or traces & ours.item_traces:
        return True
    foreign = [i for i in named if i.get("system") == mine["system"]]
    if foreign or traces:
        raise AnswerError(
            "This answer is for another GeneGate request (its request identifier is not this one's); it was not applied.",
            REFUSED,
        )
    raise AnswerError(
        "The answer does not name the request it answers (no matching identifier); it was not applied.", REFUSED
    )


# --- Decision --------------------------------------------------------------------------------------
def _date(text) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _concept_text(concept: dict | None) -> str:
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if coding.get("display") or coding.get("code"):
            label = coding.get("display") or ""
            code = coding.get("code") or ""
            return f"{label} ({code})" if label and code else label or code
    return concept.get("text") or ""


def _review(item: dict) -> dict:
    """The item's reviewAction: code, display, number, reason (adjudication extension in 2.0.1;
    also read on the item itself, where earlier PAS drafts put it)."""
    places = [*(a.get("extension") or [] for a in item.get("adjudication") or []), item.get("extension") or []]
    for extensions in places:
        for ext in extensions:
            if ext.get("url") != P.EXT_REVIEW_ACTION:
                continue
            out = {"code": "", "display": "", "number": "", "reason": ""}
            for sub in ext.get("extension") or []:
                url = sub.get("url")
                if url in (P.EXT_REVIEW_ACTION_CODE, "code"):
                    for coding in (sub.get("valueCodeableConcept") or {}).get("coding") or []:
                        if coding.get("system") in (P.X12_REVIEW_ACTION, None):
                            out["code"], out["display"] = coding.get("code", ""), coding.get("display", "")
                elif url == "number":
                    out["number"] = sub.get("valueString") or ""
                elif url == "reasonCode":
                    out["reason"] = _concept_text(sub.get("valueCodeableConcept"))
            return out
    return {}


def _period(item: dict, response: dict) -> tuple[date | None, date | None]:
    for ext in item.get("extension") or []:
        if ext.get("url") == P.EXT_PREAUTH_PERIOD and isinstance(ext.get("valuePeriod"), dict):
            return _date(ext["valuePeriod"].get("start")), _date(ext["valuePeriod"].get("end"))
    period = response.get("preAuthPeriod") or {}
    return _date(period.get("start")), _date(period.get("end"))


def _issued(item: dict, response: dict) -> date | None:
    for ext in item.get("extension") or []:
        if ext.get("url") == P.EXT_PREAUTH_ISSUE_DATE:
            return _date(ext.get("valueDate"))
    return _date(response.get("created"))


def _notes(response: dict) -> list[str]:
    return [" ".join(str(n.get("text", "")).split()) for n in response.get("processNote") or [] if n.get("text")]


def _requested(response: dict, index: dict, review: dict) -> list[str]:
    """What a pended answer asks for, in the payer's words."""
    asks: list[str] = []
    for ref in response.get("communicationRequest") or []:
        resource = index.get((ref or {}).get("reference"))
        if not resource:
            continue
        for payload in resource.get("payload") or []:
            if payload.get("contentString"):
                asks.append(" ".join(payload["contentString"].split()))
        for category in resource.get("category") or []:
            text = _concept_text(category)
            if text and not asks:
                asks.append(text)
    for resource in index.values():
        if resource.get("resourceType") != "Task":
            continue
        for task_input in resource.get("input") or []:
            value = task_input.get("valueString") or _concept_text(task_input.get("valueCodeableConcept"))
            kind = _concept_text(task_input.get("type"))
            if value and "url" not in kind.lower():
                asks.append(value)
    asks += _notes(response)
    if review.get("reason"):
        asks.append(review["reason"])
    return list(dict.fromkeys(a[:500] for a in asks if a))


def decide(response: dict, index: dict) -> Answer:
    """The decision one ClaimResponse states, for the J3399 item (item sequence 1; the first item
    when none has that sequence)."""
    errors = response.get("error") or []
    notes = _notes(response)
    if response.get("outcome") == "error" or errors:
        reasons = [_concept_text(e.get("code")) for e in errors] + notes
        reason = "; ".join(r.rstrip(".") for r in reasons if r) or "no reason given"
        return Answer(ERROR, f"The payer could not process the request: {reason}.", reason=reason)
    items = response.get("item") or []
    drug = next((i for i in items if i.get("itemSequence") == 1), items[0] if items else {})
    review = _review(drug)
    code = review.get("code", "")
    reference = response.get("preAuthRef") or ""
    issued = _issued(drug, response)
    others = [
        f"item {i.get('itemSequence')}: {_review(i).get('display') or _review(i).get('code')}"
        for i in items
        if i is not drug and _review(i).get("code") and _review(i).get("code") != code
    ]
    also = f" Other lines: {'; '.join(others)}." if others else ""
    if code in P.APPROVED_ACTIONS:
        start, end = _period(drug, response)
        number = review.get("number") or reference
        if not number:
            raise AnswerError(
                "The payer approved but sent no authorization number; it was not applied. Call the payer."
            )
        label = review.get("display") or P.APPROVED_ACTIONS[code]
        note = "" if code == "A1" else f" The payer modified the request ({label}): check what it authorized."
        return Answer(
            APPROVED,
            f"Approved ({label}, X12 {code}): authorization {number}"
            + (f", valid {start.isoformat()} to {end.isoformat()}" if start and end else ", no validity period given")
            + "."
            + note
            + also,
            auth_number=number,
            valid_from=start,
            valid_through=end,
            payer_reference=reference or number,
            decided_on=issued,
            review_code=code,
        )
    if code in P.DENIED_ACTIONS:
        reason = "; ".join(r.rstrip(".") for r in [review.get("reason", ""), *notes] if r) or "no specific reason given"
        label = review.get("display") or P.DENIED_ACTIONS[code]
        return Answer(
            DENIED,
            f"Denied ({label}, X12 {code}): {reason}.{also}",
            reason=f"{label} (X12 {code}): {reason}",
            payer_reference=reference or review.get("number", ""),
            decided_on=issued,
            review_code=code,
        )
    if not code and response.get("outcome") in ("queued", "partial"):
        return Answer(
            NONE,
            "The payer received the request and has not decided yet (outcome queued); GeneGate asks again "
            "(Claim/$inquire) until it decides.",
            payer_reference=reference,
        )
    if code in P.PENDED_ACTIONS:
        asks = _requested(response, index, review)
        label = review.get("display") or P.PENDED_ACTIONS[code]
        what = "; ".join(a.rstrip(".") for a in asks) if asks else "the payer has not said what it needs yet"
        return Answer(
            PENDED,
            f"Pended ({label}, X12 {code}): {what}.",
            requested=tuple(asks),
            payer_reference=reference or review.get("number", ""),
            review_code=code,
        )
    label = P.NO_ACTION.get(code, "no review action")
    return Answer(
        NONE, f"The payer's answer states no decision ({label}{', X12 ' + code if code else ''}).", review_code=code
    )


def read_answer(body: bytes, *, request: dict, inquiry: bool) -> Answer:
    """Read the payer's answer ``body`` to ``request`` (the stored PAS request Bundle).

    1. JSON → the Bundle (or Parameters ``return`` Bundles); AnswerError(invalid) otherwise.
    2. Conformance to the PAS Response (or Inquiry Response) Bundle: AnswerError(invalid) naming
       the first problems ("unexpected profile").
    3. The ClaimResponses about this request (Ours): one naming another request or patient →
       AnswerError(refused). An inquiry answer with none about it: no decision yet.
    4. The decision of the (newest) matching ClaimResponse.
    """
    ours = Ours.of(request)
    matching: list[tuple[dict, dict]] = []
    for bundle in bundles_in(read_json(body)):
        problems = response_problems(bundle, inquiry=inquiry)
        if problems:
            first = "; ".join(str(p) for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise AnswerError(
                f"The payer's answer is not a conformant PAS {'inquiry ' if inquiry else ''}response: {first}{more}."
            )
        index = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
        for resource in index.values():
            if resource.get("resourceType") == "ClaimResponse" and _about_us(resource, index, ours):
                matching.append((resource, index))
    if not matching:
        return Answer(NONE, "The payer has no decision on file for this request yet.")
    matching.sort(key=lambda pair: str(pair[0].get("created") or ""))
    response, index = matching[-1]
    return decide(response, index)
