"""A small Da Vinci PAS payer on a real local HTTP server, for the tests and ``make run``.

It plays a payer's PAS endpoint: ``POST <base>/Claim/$submit`` and ``POST <base>/Claim/$inquire``.
Every request is first checked against the same PAS 2.0.1 rules GeneGate applies before sending
(billing/pas/conformance.py); a non-conformant one gets HTTP 400 with an OperationOutcome naming
the problems. The first path segment of the base URL picks how the payer behaves:

    approve    A1 "Certified in total": authorization number and a 60-day validity period
    pend       A4 "Pended" with a CommunicationRequest naming what it needs; Claim/$inquire then
               answers approved (an asynchronous payer that decides later)
    queue      accepted, no decision yet (outcome queued); Claim/$inquire answers approved
    deny       A3 "Not certified" with a specific reason
    slow       sleeps ``slow_seconds`` before approving (longer than GeneGate's deadline)
    flaky      the first attempt of each request sleeps ``slow_seconds``; later attempts with the
               same identifier get the approval, which is never decided twice
    error500   HTTP 500 with an OperationOutcome
    malformed  HTTP 200 with a body that is not JSON
    notpas     HTTP 200 with a JSON Bundle that is not a PAS response
    other      an approval naming another request's identifier
    reject     a ClaimResponse with outcome error (X12 AAA reject reason)
    approved2  approves, and answers inquiries with a denial (contradicting the approval)
anything else (e.g. ``fhir``, the demo's) behaves like ``pend``. With ``token`` set, a request
without ``Authorization: Bearer <token>`` gets HTTP 401 ("expired credentials").

Run alone: ``python -m demo.pas_payer --port 8765`` (scripts/run.sh starts it for the demo).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from billing.pas import profiles as P
from billing.pas.conformance import inquiry_problems, request_problems

DECIDED = {"approve", "pend", "queue", "deny", "slow", "flaky", "other", "reject", "approved2"}


@dataclass
class PayerLog:
    """What the payer received, for the tests: (operation, scenario, claim identifier value)."""

    received: list[tuple[str, str, str]] = field(default_factory=list)
    rejected: list[list[str]] = field(default_factory=list)  # conformance problems of refused requests
    decisions: dict[str, dict] = field(default_factory=dict)  # claim identifier → what was decided
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, identifier: str, operation: str = "submit") -> int:
        with self.lock:
            return sum(1 for op, _s, ident in self.received if ident == identifier and op == operation)


def _outcome(status: int, text: str, code: str = "processing") -> tuple[int, dict]:
    return status, {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def _claim(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") == "Claim")


def _by_url(bundle: dict, reference: str) -> dict | None:
    return next((e for e in bundle.get("entry", []) if e.get("fullUrl") == reference), None)


def _response(request: dict, claim: dict, *, decision: str, identifier: dict, inquiry: bool, today: date) -> dict:
    """A PAS Response (or Inquiry Response) Bundle for ``claim`` deciding ``decision``."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    item_ext_period = {
        "url": P.EXT_PREAUTH_PERIOD,
        "valuePeriod": {"start": today.isoformat(), "end": (today + timedelta(days=60)).isoformat()},
    }
    auth = "AUTH-" + identifier["value"][:8].upper()
    codes = {
        "approved": ("A1", "Certified in total"),
        "pended": ("A4", "Pended"),
        "denied": ("A3", "Not certified"),
    }
    entries: list[dict] = []
    response = {
        "resourceType": "ClaimResponse",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [P.versioned(P.CLAIM_INQUIRY_RESPONSE if inquiry else P.CLAIM_RESPONSE)]},
        "identifier": [identifier],
        "status": "active",
        "type": claim["type"],
        "use": "preauthorization",
        "patient": claim["patient"],
        "created": created,
        "insurer": claim["insurer"],
        "requestor": claim["provider"],
        "request": {"identifier": identifier},
        "outcome": "complete",
        "item": [],
    }
    if decision == "queued":
        response["outcome"] = "queued"
        del response["item"]
    elif decision == "error":
        response["outcome"] = "error"
        del response["item"]
        response["error"] = [
            {
                "extension": [{"url": _SD_ERROR_ELEMENT, "valueString": "2010C-NM109"}],
                "code": {"coding": [{"system": P.X12_REJECT_REASON, "code": "72", "display": "Invalid/Missing Subscriber/Insured ID"}]},
            }
        ]  # fmt: skip
    else:
        code, display = codes[decision]
        for item in claim.get("item", []):
            action = [
                {"url": P.EXT_REVIEW_ACTION_CODE,
                 "valueCodeableConcept": {"coding": [{"system": P.X12_REVIEW_ACTION, "code": code, "display": display}]}},
            ]  # fmt: skip
            if decision == "approved":
                action.append({"url": "number", "valueString": auth})
            if decision == "denied":
                action.append(
                    {
                        "url": "reasonCode",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": P.X12_REVIEW_REASON,
                                    "code": "AAV9",
                                    "display": "Anti-AAV9 antibody titer drawn more than 14 days before the infusion",
                                }
                            ]
                        },
                    }  # fmt: skip
                )
            out = {
                "itemSequence": item["sequence"],
                "adjudication": [
                    {
                        "extension": [{"url": P.EXT_REVIEW_ACTION, "extension": action}],
                        "category": {"coding": [{"system": P.ADJUDICATION, "code": "submitted"}]},
                    }
                ],
            }
            if decision == "approved":
                out["extension"] = [{"url": P.EXT_PREAUTH_ISSUE_DATE, "valueDate": today.isoformat()}, item_ext_period]
            response["item"].append(out)
        if decision == "approved":
            response["preAuthRef"] = auth
        if decision == "denied":
            response["processNote"] = [
                {"text": "Policy requires a titer drawn within 14 days of the planned infusion."}
            ]
        if decision == "pended":
            ask_id = str(uuid.uuid4())
            response["communicationRequest"] = [{"reference": f"urn:uuid:{ask_id}"}]
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{ask_id}",
                    "resource": {
                        "resourceType": "CommunicationRequest",
                        "id": ask_id,
                        "status": "active",
                        "category": [{"text": "Chart notes"}],
                        "payload": [
                            {"contentString": "Most recent motor function assessment (CHOP INTEND) with its date"}
                        ],
                    },
                }
            )
    references = [claim["patient"]["reference"], claim["insurer"]["reference"], claim["provider"]["reference"]]
    for reference in references:
        entry = _by_url(request, reference)
        if entry is not None:
            entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [P.versioned(P.INQUIRY_RESPONSE_BUNDLE if inquiry else P.RESPONSE_BUNDLE)]},
        "type": "collection",
        "timestamp": created,
        "entry": [{"fullUrl": f"urn:uuid:{response['id']}", "resource": response}, *entries],
    }


_SD_ERROR_ELEMENT = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-errorElement"


class Payer:
    """The server and what it received. ``Payer.start()`` serves on a thread (tests)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None, slow_seconds: float = 2.0):
        self.log = PayerLog()
        self.token = token
        self.slow_seconds = slow_seconds
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def base(self, scenario: str) -> str:
        return f"{self.url}/{scenario}"

    def start(self) -> Payer:
        self.thread = threading.Thread(target=self.server.serve_forever, name="pas-test-payer", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- Answering ---------------------------------------------------------------------------------
    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict | bytes]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if len(parts) < 3 or parts[-2] != "Claim" or parts[-1] not in ("$submit", "$inquire"):
            return _outcome(404, "Unknown operation: POST <base>/Claim/$submit or <base>/Claim/$inquire.", "not-found")
        scenario, operation = parts[0], parts[-1][1:]
        if self.token and headers.get("Authorization", "") != f"Bearer {self.token}":
            return _outcome(401, "The access token has expired or is not valid.", "security")
        try:
            bundle = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _outcome(400, "The request body is not JSON.", "invalid")
        problems = (inquiry_problems if operation == "inquire" else request_problems)(bundle)
        try:
            claim = _claim(bundle)
            identifier = claim["identifier"][0]
        except (StopIteration, KeyError, IndexError, TypeError):
            claim, identifier = {}, {"value": ""}
        with self.log.lock:
            self.log.received.append((operation, scenario, identifier.get("value", "")))
        if problems:
            with self.log.lock:
                self.log.rejected.append([str(p) for p in problems])
            return _outcome(
                400,
                "Not a conformant Da Vinci PAS 2.0.1 request: " + "; ".join(str(p) for p in problems[:10]),
                "invalid",
            )
        return self._decide(scenario, operation, bundle, claim, identifier)

    def _decide(self, scenario: str, operation: str, bundle: dict, claim: dict, identifier: dict):
        today = date.today()
        key = identifier["value"]
        if scenario == "error500":
            return _outcome(500, "Internal error at the payer.", "exception")
        if scenario == "malformed":
            return 200, b'{"resourceType": "Bundle", "entry": [ this is not json'
        if scenario == "notpas":
            return 200, {"resourceType": "Bundle", "type": "searchset", "entry": []}
        inquiry = operation == "inquire"
        if inquiry:
            with self.log.lock:
                decided = self.log.decisions.get(key)
            if decided is None:
                return 200, {"resourceType": "Bundle", "meta": {"profile": [P.versioned(P.INQUIRY_RESPONSE_BUNDLE)]},
                             "type": "collection", "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "entry": []}  # fmt: skip
            decision = "denied" if scenario == "approved2" else "approved"
            return 200, _response(
                decided["request"],
                decided["claim"],
                decision=decision,
                identifier=identifier,
                inquiry=True,
                today=today,
            )
        # The payer files and decides a request once, under its identifier: a retry of the same
        # request (same identifier) gets the same answer, never a second decision.
        with self.log.lock:
            decided = self.log.decisions.get(key)
            if decided is None:
                decision = {"deny": "denied", "pend": "pended", "queue": "queued", "reject": "error"}.get(
                    scenario, "approved" if scenario in DECIDED else "pended"
                )
                named = dict(identifier, value="someone-else-" + key[:6]) if scenario == "other" else identifier
                answer = _response(bundle, claim, decision=decision, identifier=named, inquiry=False, today=today)
                decided = {"request": bundle, "claim": claim, "answer": answer, "decision": decision}
                self.log.decisions[key] = decided
        # Slow to answer (after deciding): "slow" always, "flaky" on a request's first attempt.
        if scenario == "slow" or (scenario == "flaky" and self.log.count(key) == 1):
            time.sleep(self.slow_seconds)
        return 200, decided["answer"]

    def _handler(self):
        payer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, content = payer.answer(self.path, self.headers, body)
                data = content if isinstance(content, bytes) else json.dumps(content).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its deadline)
                    pass

            def log_message(self, *args):  # no request lines (they would name identifiers) on stderr
                return

        return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A Da Vinci PAS test payer (see the module docstring).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=None, help="require this bearer token")
    args = parser.parse_args(argv)
    payer = Payer(host=args.host, port=args.port, token=args.token)
    print(
        f"PAS test payer at {payer.url}/<scenario>  (e.g. {payer.url}/fhir: pended, then approved on inquiry)",
        flush=True,
    )
    try:
        payer.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        payer.server.server_close()


if __name__ == "__main__":
    main()
