"""Electronic prior authorization workflows: build and store a Da Vinci PAS request, send one
attempt of it, apply the payer's answer to the prior authorization, and find what is due.

The rules are elsewhere: what the request holds (billing/pas/bundle.py), whether it conforms
(billing/pas/conformance.py), what an answer means (billing/pas/answer.py), the PA status machine
and the CMS-0057-F clock (billing/pa_rules.py), when a case may go to a payer at all (the final
packet's rule, billing.packet.final_blockers).

Nothing lost, nothing doubled (issue 20 item 5):
- The request Bundle is stored before it leaves; every attempt sends those exact bytes, so a retry
  after a timeout carries the same identifier and the payer can recognise it.
- An attempt row is written before the POST and completed after it.
- A request is claimed with a conditional UPDATE (queued/retrying → sending) so two workers never
  send it at the same time; the beat sweep re-sends what a lost message or a stopped worker left.
- A 4xx, a 5xx, invalid JSON or an answer that is not a PAS response leaves the prior
  authorization as it was; the request shows the reason and can be retried.
- While the payer may hold a request whose answer never came back, only that same request (same
  identifier) may be sent again: a new one could be a duplicate.
Request and answer bodies are stored in the database (site-scoped through the case, audited
without the bodies) and never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from billing import pa_rules
from billing.models import ChargeItem, PASAttempt, PASRequest, PAStatus, PriorAuthorization, SiteBilling
from billing.pa import pa_transition
from billing.packet import PacketError, final_blockers, load_attachments, packet_case, packet_snapshot
from billing.pas import profiles as P
from billing.pas.answer import APPROVED, DENIED, ERROR, NONE, PENDED, Answer, AnswerError, outcome_text, read_answer
from billing.pas.bundle import BundleError, Document, RequestFacts, certification_for, inquiry_bundle, request_bundle
from billing.pas.client import TransportError, credential, operation_url, post
from billing.pas.conformance import Problem, inquiry_problems, request_problems
from billing.pdf_fetch import BASE_URL, PacketURLFetcher, static_url
from cases.models import Case
from common.wording import dates_in_words

log = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def timeout_seconds() -> float:
    return _setting("PAS_TIMEOUT_SECONDS", 30)


def max_attempts() -> int:
    """Automatic attempts per run (the first and its retries); a person's retry starts a new run."""
    return int(_setting("PAS_MAX_ATTEMPTS", 4))


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base × 4^(n-1)."""
    return _setting("PAS_RETRY_BASE_SECONDS", 30) * 4 ** (attempt - 1)


def inquiry_interval() -> timedelta:
    return timedelta(seconds=_setting("PAS_INQUIRY_SECONDS", 900))


MAX_ANSWER_BYTES = 5 * 1024 * 1024
STUCK_AFTER = timedelta(minutes=10)  # a request "sending" longer than this was left by a stopped worker
ACTIVE = (PASRequest.State.QUEUED, PASRequest.State.SENDING, PASRequest.State.RETRYING)


class PASError(ValueError):
    """The request was not made; the message is for the user."""


def sid_base() -> str:
    """GeneGate's identifier namespace for this installation (billing/pas/profiles.py SID_PATH)."""
    return (settings.SITE_URL or "https://genegate.invalid").rstrip("/") + P.SID_PATH


def _dump(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2)


# --- Building ------------------------------------------------------------------------------------
def request_facts(case: Case, pa: PriorAuthorization | None) -> RequestFacts:
    """The identifiers and codes the request needs beyond the packet snapshot (two queries)."""
    billing = SiteBilling.objects.filter(site_id=case.site_id).first()
    address = charges = None
    if billing is not None:
        zip_code = billing.zip_code
        address = {
            "line": billing.street,
            "city": billing.city,
            "state": billing.state,
            "postal_code": f"{zip_code[:5]}-{zip_code[5:]}" if len(zip_code) == 9 else zip_code,
        }
        charges = {c.code: (c.revenue_code, str(c.charge)) for c in ChargeItem.objects.filter(settings=billing)}
    payer = case.payer
    return RequestFacts(
        sid_base=sid_base(),
        site_id=case.site_id,
        payer_id=case.payer_id,
        payer_x12_id=payer.payer_id if payer else "",
        sex=case.patient.sex,
        group_number=case.group_number,
        subscriber_name=case.subscriber_name,
        subscriber_relationship=case.subscriber_relationship,
        billing_address=address,
        charges=charges or {},
        expedited=bool(pa and pa.expedited),
        payer_reference=pa.reference_number if pa else "",
    )


def letter_pdf(snapshot: dict) -> bytes:
    """The signed letter of medical necessity alone, as the packet prints it (WeasyPrint)."""
    from weasyprint import HTML  # heavy import, loaded when a letter is rendered (as billing.packet)

    html = dates_in_words(
        render_to_string(
            "billing/pas/letter.html", {"s": snapshot, "draft": False, "css_url": static_url("billing/packet.css")}
        )
    )
    try:
        return HTML(string=html, base_url=BASE_URL, url_fetcher=PacketURLFetcher({})).write_pdf()
    except Exception as exc:  # WeasyPrint raises many types; one clear message
        log.exception("PAS letter render failed for case %s", snapshot.get("case_id"))
        raise PASError("The letter of medical necessity could not be rendered; nothing was sent.") from exc


def documents(snapshot: dict) -> list[Document]:
    """The signed letter and the packet's chosen reports (newest genetic and titer report)."""
    signed = snapshot["lmn"].get("signed") or {}
    out = [
        Document(
            role="lmn",
            title=f"Letter of medical necessity, version {snapshot['lmn']['version']}, signed {signed.get('on', '')} "
            f"by {signed.get('name', '')} (NPI {signed.get('npi', '')})",
            content_type="application/pdf",
            data=letter_pdf(snapshot),
            created_on=signed.get("on") or snapshot["generated_on"],
            by_prescriber=True,
        )
    ]
    try:
        attachments = load_attachments(snapshot)
    except PacketError as exc:
        raise PASError(str(exc)) from None
    for att in attachments:
        out.append(
            Document(
                role=f"report-{att.document_id}",
                title=f"{att.kind_label}, uploaded {att.uploaded_text}",
                content_type=att.content_type,
                data=att.data,
                created_on=att.uploaded_on,
            )
        )
    return out


@dataclass(frozen=True)
class Built:
    """A request as it would go now: the snapshot it came from, its Bundle and what is wrong."""

    snapshot: dict
    bundle: dict | None
    blockers: list[str]
    problems: list[Problem]
    error: str  # why it could not be built at all

    @property
    def sendable(self) -> bool:
        return self.bundle is not None and not self.blockers and not self.problems and not self.error


def pas_build(case: Case, *, request_id: str, now: datetime | None = None, with_documents: bool = True) -> Built:
    """Build the PAS request for ``case`` from its packet snapshot (what a final packet would
    print), and judge it: the final packet's blockers, then conformance to the PAS profiles."""
    now = now or timezone.now()
    full = packet_case(case.pk)
    try:
        pa = full.prior_authorization
    except ObjectDoesNotExist:
        pa = None
    snapshot = packet_snapshot(full, today=timezone.localdate(now), final=True)
    blockers = final_blockers(snapshot)
    try:
        docs = documents(snapshot) if with_documents and not blockers else []
        bundle = request_bundle(snapshot, request_facts(full, pa), request_id=request_id, created=now, documents=docs)
    except (BundleError, PASError) as exc:
        return Built(snapshot, None, blockers, [], str(exc))
    return Built(snapshot, bundle, blockers, request_problems(bundle), "")


def new_request_id() -> str:
    """A request identifier: 32 random hex digits, no patient data (X12 TRN02 allows 50)."""
    return secrets.token_hex(16)


# --- Whether a request may be made ---------------------------------------------------------------
def send_refusal(pa: PriorAuthorization | None, case: Case) -> str | None:
    """Why "Send electronically" is not offered for this PA now, or None.

    1. A payer with no PAS endpoint: downloads only.
    2. Only a draft (initial request) or a denied PA (reconsideration) is sent.
    3. A request already on its way, or one the payer may hold although its answer never came
       back (then only "Retry", with the same identifier).
    """
    payer = case.payer
    if payer is None:
        return "No payer is recorded on the case."
    if not payer.sends_pas:
        return (
            f"{payer.name} has no Da Vinci PAS endpoint recorded, so GeneGate cannot send the request electronically. "
            "An administrator records it on the payer's policy; meanwhile download the Bundle for the payer's portal, "
            "or send the PA packet."
        )
    if pa is None:
        return "Start the prior authorization first."
    if pa.status not in (PAStatus.DRAFT, PAStatus.DENIED):
        return f"This prior authorization is {pa.get_status_display().lower()}: it was already submitted."
    latest = PASRequest.objects.filter(prior_authorization=pa, kind=PASRequest.Kind.SUBMIT).first()
    if latest is not None and latest.state in ACTIVE:
        return "A request is already on its way to the payer; its answer appears below."
    if latest is not None and latest.state == PASRequest.State.FAILED:
        attempt = latest.last_attempt()
        if attempt is not None and attempt.delivery_uncertain:
            return (
                "The payer may have received the last request although no answer came back. Retry that request (it "
                "carries the same identifier, so the payer can recognise it) instead of sending a new one."
            )
    return None


# --- Making and retrying a request ----------------------------------------------------------------
def pas_prepare(*, case: Case, by, now: datetime | None = None) -> PASRequest:
    """Build, check and store a PAS request for the case's prior authorization; queue it.

    1. Refuse (PASError) what send_refusal refuses, a case the final-packet rule blocks, a request
       that cannot be built or does not conform to the PAS profiles.
    2. Store it (queued) with its exact bytes and hash, under a lock of the PA row. The caller
       hands it to the worker (billing.pas.tasks.enqueue_send).
    """
    now = now or timezone.now()
    built = pas_build(case, request_id=new_request_id(), now=now)
    if built.blockers:
        raise PASError(
            "Not sent: the same rule as a final packet applies, every blocking item must pass. "
            f"Still blocking: {'; '.join(built.blockers)}."
        )
    if built.error:
        raise PASError(f"Not sent: {built.error}")
    if built.problems:
        first = "; ".join(str(p) for p in built.problems[:5])
        raise PASError(f"Not sent: the request does not conform to Da Vinci PAS {P.PAS_VERSION}: {first}.")
    body = _dump(built.bundle)
    with transaction.atomic():
        pa = PriorAuthorization.objects.select_for_update(of=("self",)).get(case=case)
        refusal = send_refusal(pa, case)
        if refusal:
            raise PASError(refusal)
        request = PASRequest.objects.create(
            prior_authorization=pa,
            kind=PASRequest.Kind.SUBMIT,
            request_id=built.bundle["identifier"]["value"],
            certification=certification_for(built.snapshot),
            endpoint=case.payer.pas_endpoint,
            body=body,
            sha256=hashlib.sha256(body.encode()).hexdigest(),
            created_by=by,
            created_at=now,
        )
    return request


def pas_retry(*, request: PASRequest, by, now: datetime | None = None) -> PASRequest:
    """Queue ``request`` again, byte for byte (same identifier), for a new run of attempts; the
    caller hands it to the worker. Only a request that was not delivered may be retried."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = PASRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != PASRequest.State.FAILED:
            raise PASError(f"This request is {locked.get_state_display().lower()}; only an undelivered one is retried.")
        locked.state, locked.attempts, locked.next_attempt_at = PASRequest.State.QUEUED, 0, None
        locked.message = f"Queued again by {by.get_full_name() or by.get_username()}." if by else "Queued again."
        locked.save(update_fields=["state", "attempts", "next_attempt_at", "message"])
    return locked


# --- One attempt ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    outcome: str
    message: str
    retry_in: float | None = None  # seconds until the next automatic attempt


def pas_attempt(request_pk: int, *, now: datetime | None = None) -> Result | None:
    """Send one attempt of the request ``request_pk``; record it; apply the answer.

    1. Claim the request (queued or due for a retry → sending); None when another worker has it
       or it is not due.
    2. Write the attempt row, then POST the stored bytes to <endpoint>/Claim/$submit (or $inquire)
       with the payer's credential and the deadline.
    3. No answer, a 5xx, 408 or 429: retry later with backoff (the same bytes) until
       PAS_MAX_ATTEMPTS; then failed, with a retry button. Any other 4xx, a redirect, an answer
       that is not a conformant PAS response, or one for another request: failed or refused, the
       PA untouched. A PAS answer: applied to the PA (pas_apply).
    """
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = (
        PASRequest.objects.filter(pk=request_pk, state__in=[PASRequest.State.QUEUED, PASRequest.State.RETRYING])
        .filter(due)
        .update(state=PASRequest.State.SENDING, next_attempt_at=None)
    )
    if claimed != 1:
        return None
    request = PASRequest.objects.select_related("prior_authorization__payer").get(pk=request_pk)
    payer = request.prior_authorization.payer
    number = (request.attempt_rows.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    attempt = PASAttempt.objects.create(request=request, number=number, started_at=now)
    request.attempts += 1
    token = credential(payer.pas_token_env) if payer else None
    if payer is not None and payer.pas_token_env and not token:
        return _finish(
            request,
            attempt,
            PASAttempt.Outcome.REFUSED,
            f"Not sent: the credential for {payer.name} is not set on the GeneGate server (environment variable "
            f"{payer.pas_token_env}). An administrator sets it; then retry.",
            now=now,
        )
    url = operation_url(request.endpoint, "submit" if request.kind == PASRequest.Kind.SUBMIT else "inquire")
    try:
        reply = post(url, request.body.encode(), token=token, timeout=timeout_seconds(), max_bytes=MAX_ANSWER_BYTES)
    except TransportError as exc:
        kind = PASAttempt.Outcome.TIMEOUT if exc.kind == "timeout" else PASAttempt.Outcome.UNREACHABLE
        return _finish(request, attempt, kind, str(exc), now=now, retryable=True)
    attempt.http_status = reply.status
    attempt.response_body = reply.body.decode("utf-8", errors="replace")
    attempt.response_sha256 = hashlib.sha256(reply.body).hexdigest()
    if reply.too_large:
        return _finish(request, attempt, PASAttempt.Outcome.INVALID,
                       f"The payer's answer was larger than {MAX_ANSWER_BYTES // 1024 // 1024} MB; it was not read.", now=now)  # fmt: skip
    if reply.status >= 500 or reply.status in (408, 429):
        detail = outcome_text(reply.body)
        return _finish(request, attempt, PASAttempt.Outcome.HTTP_ERROR,
                       f"The payer's server answered HTTP {reply.status}{': ' + detail.rstrip('.') if detail else ''}.", now=now,
                       retryable=True)  # fmt: skip
    if reply.status in (401, 403):
        return _finish(
            request,
            attempt,
            PASAttempt.Outcome.HTTP_ERROR,
            f"The payer refused GeneGate's credentials (HTTP {reply.status}): the token in "
            f"{payer.pas_token_env or 'the server environment'} may have expired or been revoked. An administrator "
            "renews it; then retry. The prior authorization was not changed.",
            now=now,
        )
    if not 200 <= reply.status < 300:
        detail = outcome_text(reply.body)
        return _finish(
            request,
            attempt,
            PASAttempt.Outcome.HTTP_ERROR,
            f"The payer answered HTTP {reply.status}{': ' + detail.rstrip('.') if detail else ''}. The prior authorization was "
            "not changed.",
            now=now,
        )
    try:
        answer = read_answer(
            reply.body, request=_request_bundle(request), inquiry=request.kind == PASRequest.Kind.INQUIRE
        )
    except AnswerError as exc:
        outcome = PASAttempt.Outcome.REFUSED if exc.outcome == "refused" else PASAttempt.Outcome.INVALID
        return _finish(request, attempt, outcome, f"{exc} The prior authorization was not changed.", now=now)
    outcome, message = pas_apply(request, answer, now=now)
    return _finish(request, attempt, outcome, message, now=now, answer=answer)


def _request_bundle(request: PASRequest) -> dict:
    """The submit Bundle an answer must be about (an inquiry asks about its submit request)."""
    source = request.about if request.kind == PASRequest.Kind.INQUIRE else request
    return json.loads(source.body)


def _finish(request: PASRequest, attempt: PASAttempt, outcome: str, message: str, *, now: datetime,
            retryable: bool = False, answer: Answer | None = None) -> Result:  # fmt: skip
    """Complete the attempt row and the request's state."""
    attempt.outcome, attempt.message, attempt.finished_at = outcome, message, timezone.now()
    attempt.save()
    retry_in = None
    if outcome == PASAttempt.Outcome.ANSWERED:
        request.state, request.answered_at = PASRequest.State.ANSWERED, attempt.finished_at
        if answer is not None:
            request.decision = answer.decision
            request.requested_info = list(answer.requested)
            request.payer_reference = answer.payer_reference or request.payer_reference
    elif retryable and request.attempts < max_attempts():
        retry_in = retry_delay(request.attempts)
        request.state, request.next_attempt_at = PASRequest.State.RETRYING, now + timedelta(seconds=retry_in)
        message = (
            f"{message} GeneGate tries again at {timezone.localtime(request.next_attempt_at):%H:%M} (same request)."
        )
    else:
        request.state = PASRequest.State.FAILED
        if retryable:
            message = f"{message} No answer after {request.attempts} attempts: retry when the payer is back."
    request.message = message
    request.save()
    log.info("PAS %s request %s attempt %s: %s", request.kind, request.pk, attempt.number, outcome)  # ids only
    return Result(outcome, message, retry_in)


# --- Applying an answer -------------------------------------------------------------------------------
def pas_apply(request: PASRequest, answer: Answer, *, now: datetime) -> tuple[str, str]:
    """Apply ``answer`` to the request's prior authorization; return (attempt outcome, message).

    1. An answer that contradicts an approval already recorded (a denial, a pend, another
       authorization number or period) is refused: nothing changes.
    2. error: the payer did not take the request; the PA stays as it was.
    3. Any other answer to a submit: the payer has it, so a draft PA becomes submitted (a denied
       one appealed) with the payer's reference, starting the CMS-0057-F clock.
    4. approved → approved (authorization number, period, J3399 × 1); denied → denied with the
       payer's specific reason; pended → pended with what the payer asks for.
    5. A move the PA status machine does not allow (the PA changed meanwhile) is refused, named.
    """
    submit = request.about if request.kind == PASRequest.Kind.INQUIRE else request
    on = timezone.localdate(now)
    via = f"Da Vinci PAS request {submit.request_id[:12]}…"
    with transaction.atomic():
        pa = PriorAuthorization.objects.select_for_update().get(pk=request.prior_authorization_id)
        if pa.status == PAStatus.APPROVED:
            same = (
                answer.decision == APPROVED
                and answer.auth_number == pa.auth_number
                and (answer.valid_from, answer.valid_through) == (pa.valid_from, pa.valid_through)
            )
            if same:
                return PASAttempt.Outcome.ANSWERED, f"{answer.summary} (already recorded)"
            return (
                PASAttempt.Outcome.REFUSED,
                f"The payer's answer ({answer.summary.rstrip('.')}) contradicts the approval already recorded "
                f"(authorization {pa.auth_number or 'not recorded'}, valid {_iso(pa.valid_from)} to "
                f"{_iso(pa.valid_through)}). Nothing was changed: call the payer and record what they confirm.",
            )
        if answer.decision == ERROR:
            return PASAttempt.Outcome.ANSWERED, f"{answer.summary} The prior authorization was not changed."
        try:
            if request.kind == PASRequest.Kind.SUBMIT:
                if pa.status == PAStatus.DRAFT:
                    pa_transition(pa=pa, to=PAStatus.SUBMITTED, by=None, on=on, at=now,
                                  reference_number=answer.payer_reference, note=f"Sent electronically ({via}).")  # fmt: skip
                elif pa.status == PAStatus.DENIED and submit.certification == P.CERT_RECONSIDERATION:
                    pa_transition(pa=pa, to=PAStatus.APPEALED, by=None, on=on, at=now,
                                  reference_number=answer.payer_reference,
                                  note=f"Reconsideration sent electronically ({via}).")  # fmt: skip
            decided_on = answer.decided_on or on
            if answer.decision == APPROVED and pa.status != PAStatus.APPROVED:
                pa_transition(pa=pa, to=PAStatus.APPROVED, by=None, on=decided_on, at=now,
                              auth_number=answer.auth_number, valid_from=answer.valid_from,
                              valid_through=answer.valid_through, approved_units=1,
                              reference_number=answer.payer_reference, note=f"Payer's answer via {via}.")  # fmt: skip
            elif answer.decision == DENIED and pa.status != PAStatus.DENIED:
                pa_transition(pa=pa, to=PAStatus.DENIED, by=None, on=decided_on, at=now, note=answer.reason)
            elif answer.decision == PENDED and pa.status == PAStatus.SUBMITTED:
                asks = "; ".join(answer.requested) or "the payer has not said what it needs yet"
                pa_transition(pa=pa, to=PAStatus.PENDED, by=None, on=on, at=now,
                              note=f"The payer asks for: {asks} ({via}).")  # fmt: skip
        except pa_rules.PATransitionError as exc:
            return (
                PASAttempt.Outcome.REFUSED,
                f"The payer's answer ({answer.summary.rstrip('.')}) does not fit this prior authorization's recorded "
                f"status: {exc} Nothing was changed.",
            )
        if request.kind == PASRequest.Kind.INQUIRE and answer.decision != NONE:
            PASRequest.objects.filter(pk=submit.pk).update(
                decision=answer.decision,
                requested_info=list(answer.requested),
                message=answer.summary,
                payer_reference=answer.payer_reference or submit.payer_reference,
            )
    return PASAttempt.Outcome.ANSWERED, answer.summary


def _iso(value) -> str:
    return value.isoformat() if value else "—"


# --- What is due (the beat sweep) -------------------------------------------------------------------
def pas_due(now: datetime | None = None) -> list[int]:
    """Ids of requests to send now, after creating the status inquiries that are due.

    1. A request "sending" for longer than STUCK_AFTER was left by a stopped worker: its attempt
       is marked unanswered and the request waits for a retry (same bytes).
    2. Every prior authorization awaiting a decision whose electronic request the payer pended
       (or took without deciding) gets an inquiry (Claim/$inquire) when none is in flight and the
       last one is older than PAS_INQUIRY_SECONDS.
    3. Queued requests, and retries whose time has come.
    """
    now = now or timezone.now()
    for request in PASRequest.objects.filter(
        state=PASRequest.State.SENDING, attempt_rows__started_at__lt=now - STUCK_AFTER
    ).distinct():
        attempt = request.last_attempt()
        if (
            attempt is not None
            and attempt.outcome == PASAttempt.Outcome.PENDING
            and attempt.started_at < now - STUCK_AFTER
        ):
            attempt.outcome, attempt.finished_at = PASAttempt.Outcome.TIMEOUT, now
            attempt.message = "The worker stopped before the payer's answer was recorded."
            attempt.save(update_fields=["outcome", "finished_at", "message"])
            PASRequest.objects.filter(pk=request.pk, state=PASRequest.State.SENDING).update(
                state=PASRequest.State.RETRYING, next_attempt_at=now
            )
    _create_inquiries(now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return list(
        PASRequest.objects.filter(state__in=[PASRequest.State.QUEUED, PASRequest.State.RETRYING]).filter(due)
        .order_by("pk").values_list("pk", flat=True)
    )  # fmt: skip


def _create_inquiries(now: datetime) -> None:
    awaiting = PriorAuthorization.objects.filter(status__in=pa_rules.AWAITING_DECISION, payer__pas_endpoint__gt="")
    for pa in awaiting.select_related("payer"):
        submit = PASRequest.objects.filter(prior_authorization=pa, kind=PASRequest.Kind.SUBMIT).first()
        if submit is None or submit.state != PASRequest.State.ANSWERED or submit.decision not in (PENDED, NONE):
            continue
        inquiries = PASRequest.objects.filter(about=submit)
        if inquiries.filter(state__in=ACTIVE).exists():
            continue
        last = inquiries.order_by("-created_at").first()
        if last is not None and last.created_at > now - inquiry_interval():
            continue
        inquiry_id = new_request_id()
        body = _dump(
            inquiry_bundle(json.loads(submit.body), inquiry_id=inquiry_id,
                           identifier_system=f"{sid_base()}/pas-inquiry", created=now)
        )  # fmt: skip
        problems = inquiry_problems(json.loads(body))
        if problems:  # never expected: the inquiry is cut from a conformant request
            log.error("PAS inquiry for request %s does not conform (%d problems)", submit.pk, len(problems))
            continue
        PASRequest.objects.create(
            prior_authorization=pa,
            kind=PASRequest.Kind.INQUIRE,
            request_id=inquiry_id,
            about=submit,
            certification=submit.certification,
            endpoint=pa.payer.pas_endpoint,
            body=body,
            sha256=hashlib.sha256(body.encode()).hexdigest(),
            created_at=now,
        )
