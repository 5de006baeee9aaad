"""The permits a trek in Nepal needs, and what each asks of every traveller. Pure data.

A product names its permits by code (`Product.permits`); the permit worksheet of a departure
(`backend.services.travellers.permit_rows`) has a column per field the product's permits ask
for, in this order, so the person at the permit counter fills each form from one sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Permit:
    code: str
    name: str
    fields: tuple[str, ...]  # traveller field names (backend.domain.travellers.FIELDS)
    photo: bool = False  # a portrait photo is stapled to the form


_IDENTITY = ("full_name", "nationality", "passport_number")

PERMITS: Mapping[str, Permit] = {
    p.code: p
    for p in (
        Permit(
            "TIMS",
            "TIMS card (Trekkers' Information Management System)",
            (
                *_IDENTITY,
                "sex",
                "date_of_birth",
                "passport_expiry",
                "insurer",
                "policy_number",
                "emergency_name",
                "emergency_phone",
            ),
            photo=True,
        ),
        Permit(
            "ACAP",
            "Annapurna Conservation Area Project permit",
            (*_IDENTITY, "sex", "date_of_birth"),
            photo=True,
        ),
        Permit("SNP", "Sagarmatha National Park permit", (*_IDENTITY, "date_of_birth")),
        Permit("KPLRM", "Khumbu Pasang Lhamu Rural Municipality fee", _IDENTITY),
    )
}


def fields_for(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Every field the permits ask for, each once, identity first."""
    seen: dict[str, None] = {}
    for code in codes:
        permit = PERMITS.get(code)
        if permit is not None:
            seen.update(dict.fromkeys(permit.fields))
    return tuple(seen)


def needs_photo(codes: list[str] | tuple[str, ...]) -> bool:
    return any(PERMITS[c].photo for c in codes if c in PERMITS)
