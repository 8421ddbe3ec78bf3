"""ICD-10-CM diagnosis codes for 5q spinal muscular atrophy: the codes offered at intake with
their official descriptors, and the motor neuron disease codes that must never be used
(docs/domain.md §7, §11.14). Claims (billing.codes, billing.claims) use the same table."""

from __future__ import annotations

import re

from common.codesets import ICD10_CM, Code

# --- ICD-10-CM (docs/domain.md §7) -------------------------------------------------------------------
ICD10: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "G12.0",
            ICD10_CM,
            "Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]",
            "SMA type 1. Primary diagnosis.",
            "docs/domain.md §7; hccbuddy.com/icd10/G12.0 (FY2026)",
            use_for_zolgensma=True,
        ),
        Code(
            "G12.1",
            ICD10_CM,
            "Other inherited spinal muscular atrophy",
            "Includes childhood form type II, juvenile form type III [Kugelberg-Welander], adult "
            "form, distal SMA, scapuloperoneal form, progressive bulbar palsy of childhood "
            "[Fazio-Londe]. Not specific to 5q SMA. Primary diagnosis.",
            "docs/domain.md §7, §11.14; diseasedb.com/icd10/G12.1",
            use_for_zolgensma=True,
        ),
        Code(
            "G12.8",
            ICD10_CM,
            "Other spinal muscular atrophies and related syndromes",
            "Not on the billing card; a valid primary choice (docs/domain.md §11.14).",
            "docs/domain.md §7; icdlist.com/icd-10/G12.8",
            use_for_zolgensma=True,
        ),
        Code(
            "G12.9",
            ICD10_CM,
            "Spinal muscular atrophy, unspecified",
            "Primary diagnosis when the SMA type is not documented.",
            "docs/domain.md §7; icdlist.com/icd-10/G12.9",
            use_for_zolgensma=True,
        ),
        Code(
            "P09.8",
            ICD10_CM,
            "Other abnormal findings on neonatal screening",
            "Abnormal newborn screen for SMA before confirmation; code G12.x once confirmed "
            "(docs/domain.md §11.11). Replaces the card's misuse of Z13.228.",
            "docs/domain.md §7, §11.11; icdlist.com/icd-10/P09; eleplan.com/icd10/P09 (FY2026)",
            use_for_zolgensma=True,
        ),
        Code(
            "P09.9",
            ICD10_CM,
            "Abnormal findings on neonatal screening, unspecified",
            "Unspecified abnormal newborn screen; prefer P09.8 for an SMA screen.",
            "docs/domain.md §7; icdlist.com/icd-10/P09",
            use_for_zolgensma=True,
        ),
        Code(
            "Z82.0",
            ICD10_CM,
            "Family history of epilepsy and other diseases of the nervous system",
            "Covers a family history of any G00-G99 condition, so usable for a sibling with SMA. "
            "The card paraphrases it as 'Family history of SMA' (docs/domain.md §11.12).",
            "docs/domain.md §7, §11.12; CDC/CMS ICD-10-CM tabular",
            use_for_zolgensma=True,
        ),
        Code(
            "Z13.228",
            ICD10_CM,
            "Encounter for screening for other metabolic disorders",
            "Misused on the card as 'NBS-identified pre-symptomatic'. It is a screening-encounter "
            "code for metabolic disorders, not an SMA diagnosis: use P09.8, then G12.x "
            "(docs/domain.md §11.11). Not offered.",
            "docs/domain.md §7, §11.11; diseasedb.com",
        ),
        Code(
            "Z00.121",
            ICD10_CM,
            "Encounter for routine child health examination with abnormal findings",
            "Misused on the card as a 'workup window' visit. A well-child exam code for a child "
            "over 28 days old; newborns use Z00.110/Z00.111 (docs/domain.md §11.13). Not offered.",
            "docs/domain.md §7, §11.13; medonix.io; imedicalcode.com Z00 tabular",
        ),
    )
}

_PRIMARY_DIAGNOSIS_CODES = ("G12.0", "G12.1", "G12.8", "G12.9")
_SECONDARY_DIAGNOSIS_CODES = ("P09.8", "P09.9", "Z82.0")

# G12.2 (Motor neuron disease) and its subcodes G12.20-G12.29 (docs/domain.md §7, §11.14).
_FORBIDDEN_SMA_PREFIX = "G12.2"
FORBIDDEN_SMA_MESSAGE = (
    "G12.2x codes (G12.20-G12.29, e.g. G12.25 Progressive spinal muscle atrophy) are motor "
    "neuron disease codes, not 5q-SMA codes. Use G12.0, G12.1, G12.8 or G12.9."
)


def normalize_icd10(code: str) -> str:
    """Return an ICD-10-CM code in upper case with its dot ("g1225" -> "G12.25").

    Raises ValueError when the text is not shaped like an ICD-10-CM code (a letter, two
    characters, then optionally a dot and up to four more characters).
    """
    if not isinstance(code, str):
        raise ValueError(f"ICD-10-CM code must be text, got {type(code).__name__}")
    text = code.strip().upper()
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    if not re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", text):
        raise ValueError(f"{code!r} is not an ICD-10-CM code (expected e.g. 'G12.0')")
    return text


def is_forbidden_sma_code(code: str) -> bool:
    """Return True when `code` is G12.2 or G12.20-G12.29 (motor neuron disease, not 5q SMA).

    The reason to show the user is FORBIDDEN_SMA_MESSAGE (docs/domain.md §7, §11.14).
    Raises ValueError when `code` is not shaped like an ICD-10-CM code.
    """
    return normalize_icd10(code).startswith(_FORBIDDEN_SMA_PREFIX)


def _choice(code: str) -> tuple[str, str]:
    return (code, f"{code} — {ICD10[code].descriptor}")


# Form choices: (value, "code — official descriptor").
PRIMARY_DIAGNOSIS_CHOICES: tuple[tuple[str, str], ...] = tuple(_choice(c) for c in _PRIMARY_DIAGNOSIS_CODES)
SECONDARY_DIAGNOSIS_CHOICES: tuple[tuple[str, str], ...] = tuple(_choice(c) for c in _SECONDARY_DIAGNOSIS_CODES)


def diagnosis_descriptor(code: str) -> str:
    """Return the official descriptor of an ICD-10-CM code in the table. Raises ValueError if unknown."""
    key = code.strip().upper() if isinstance(code, str) else code
    try:
        return ICD10[key].descriptor
    except (KeyError, TypeError):
        raise ValueError(f"Unknown code {code!r}: not in the GeneGate code tables") from None
