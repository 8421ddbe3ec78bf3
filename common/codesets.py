"""The shape of a code-set entry (ICD-10-CM, HCPCS, CPT, POS): its official descriptor, where
it came from and how sure we are. Plain data; the code sets themselves live with the app that
owns them (cases.diagnoses for ICD-10-CM, billing.codes for HCPCS, CPT, POS and NDC)."""

from __future__ import annotations

from dataclasses import dataclass

# --- Code systems -------------------------------------------------------------------------------
ICD10_CM = "ICD-10-CM"
HCPCS = "HCPCS"
CPT = "CPT"
POS = "POS"

# Flags (docs/domain.md "Confidence tags").
VERIFIED = "V"
DERIVED = "D"
UNVERIFIED = "U"


@dataclass(frozen=True)
class Code:
    """One code with its official descriptor, where it came from and what it is for.

    ``note`` and ``source`` are for maintainers and cite docs/domain.md; screens and documents
    print only ``descriptor`` (public sources only, docs/domain.md "Public source labels").
    """

    code: str
    system: str
    descriptor: str
    note: str
    source: str
    flag: str = VERIFIED
    use_for_zolgensma: bool = False
