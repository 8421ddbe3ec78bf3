"""What a final PA packet needs besides the eligibility gate, as pure functions over plain values.

A payer's reviewer matches the request to an individual prescriber: a missing or invalid NPI, or
the facility's NPI (an organization, Type 2) in the physician's place (Type 1), sends the request
back (CMS NPI standard, NPPES). The packet prints the facility's TIN, phone and fax so the
reviewer can call or fax without looking them up.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.npi import npi_is_valid


@dataclass(frozen=True)
class PacketProblem:
    """One thing that keeps a packet from being final: title, what is wrong, how to fix it."""

    title: str
    detail: str
    fix: str

    def as_dict(self) -> dict:
        return {"title": self.title, "detail": self.detail, "fix": self.fix}


def identifier_problems(
    *, physician_name: str, physician_npi: str, facility_npi: str, site_tin: str, site_phone: str, site_fax: str
) -> list[PacketProblem]:
    """Return the identifier problems a final packet refuses, in reading order.

    1. Ordering physician: name and NPI recorded; the NPI passes its check digit and is not the
       facility's NPI.
    2. Facility: TIN, office phone and fax recorded (the payer's reviewer calls or faxes them).
    """
    problems = []
    npi = (physician_npi or "").strip()
    if not (physician_name or "").strip() or not npi:
        problems.append(
            PacketProblem(
                "Ordering physician",
                "The ordering physician's name or individual NPI is not recorded.",
                "Record the ordering physician and their individual NPI (Type 1) on the case.",
            )
        )
    elif not npi_is_valid(npi):
        problems.append(
            PacketProblem(
                "Ordering physician NPI",
                f"NPI {npi} fails the NPI check digit.",
                "Correct the ordering physician's NPI on the case.",
            )
        )
    elif npi == (facility_npi or "").strip():
        problems.append(
            PacketProblem(
                "Ordering physician NPI",
                f"NPI {npi} is the facility's NPI (an organization, Type 2), not the physician's.",
                "Record the ordering physician's individual NPI (Type 1) on the case.",
            )
        )
    missing = [
        label
        for label, value in (("tax id (TIN)", site_tin), ("office phone", site_phone), ("office fax", site_fax))
        if not (value or "").strip()
    ]
    if missing:
        problems.append(
            PacketProblem(
                "Facility identifiers",
                f"The treatment site's {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not recorded.",
                "An administrator records them on the site (Admin → Sites).",
            )
        )
    return problems
