"""Electronic prior authorization: HL7 Da Vinci Prior Authorization Support (PAS) 2.0.1, FHIR R4.

- ``profiles``: the profile URLs, code systems and X12 codes the request and answers use (cited).
- ``bundle``: the PAS request Bundle (and the status-inquiry Bundle) built from the PA packet's
  snapshot, so the electronic and the paper request state the same facts.
- ``conformance``: the profiles' required elements, cardinalities and fixed values, checked before
  anything leaves (and by the test payer), plus a parse with ``fhir.resources``.
- ``answer``: a payer's answer read into a decision (approved, pended, denied, error).
- ``client``: one HTTP POST to the payer, with a deadline and no redirects.
- ``workflow``: the database side: build and store a request, send an attempt, apply the answer
  to the prior authorization, find what is due (retries, inquiries for pended requests).
- ``tasks``: the Celery tasks (ids only) and the beat sweep.

The billing layer only: nothing below billing imports this package.
"""
