"""Treks side by side, from the catalogue's data: how hard, how high, how long, how much, when
(`actions/catalog.py`'s comparison). Customer copy: translated like the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from babel.dates import get_month_names

from backend import i18n
from backend.domain.comparisons import Aspect
from backend.i18n import _
from backend.models import Product
from backend.texts.format import money, trek_label


class Facts(Protocol):
    """What the copy reads of a trek (`backend.services.catalog.TrekFacts`)."""

    @property
    def product(self) -> Product: ...

    @property
    def difficulty_rank(self) -> int: ...

    @property
    def months(self) -> list[int]: ...


def _difficulty(product: Product) -> str:
    return {"easy": _("easy"), "moderate": _("moderate"), "challenging": _("challenging")}.get(
        product.difficulty, product.difficulty
    )


def _months(months: list[int]) -> str:
    names = get_month_names("abbreviated", locale=i18n.current())
    return ", ".join(str(names[m]).rstrip(".") for m in months)


def _line(facts: Facts) -> str:
    product = facts.product
    parts = [_difficulty(product)]
    if product.max_altitude_m:
        parts.append(_("up to {metres} m").format(metres=f"{product.max_altitude_m:,}"))
    parts.append(_("{days} days").format(days=product.days) if product.days != 1 else _("1 day"))
    parts.append(
        _("{price} per person").format(
            price=money(product.price_per_person_minor, product.currency)
        )
    )
    if facts.months:
        parts.append(_("departures in {months}").format(months=_months(facts.months)))
    return f"*{trek_label(product)}*: " + " · ".join(parts)


def _verdict(aspect: Aspect, treks: Sequence[Facts]) -> str | None:
    by_altitude = sorted(treks, key=lambda f: f.product.max_altitude_m or 0)
    if aspect == Aspect.DIFFICULTY:
        ranks = {f.difficulty_rank for f in treks}
        hardest = max(treks, key=lambda f: (f.difficulty_rank, f.product.max_altitude_m or 0))
        if len(ranks) > 1:
            return _("{trek} is the hardest: graded {difficulty}.").format(
                trek=trek_label(hardest.product), difficulty=_difficulty(hardest.product)
            )
        return _(
            "All are graded {difficulty}; {trek} goes highest ({metres} m), and altitude is "
            "what makes a trek in Nepal hard."
        ).format(
            difficulty=_difficulty(hardest.product),
            trek=trek_label(by_altitude[-1].product),
            metres=f"{by_altitude[-1].product.max_altitude_m or 0:,}",
        )
    if aspect == Aspect.ALTITUDE:
        top = by_altitude[-1].product
        return _("{trek} goes highest: {metres} m.").format(
            trek=trek_label(top), metres=f"{top.max_altitude_m or 0:,}"
        )
    if aspect == Aspect.LENGTH:
        by_days = sorted(treks, key=lambda f: f.product.days)
        if by_days[0].product.days == by_days[-1].product.days:
            return _("They take the same time: {days} days.").format(days=by_days[0].product.days)
        return _(
            "{long} is the longest ({days} days); {short} the shortest ({short_days})."
        ).format(
            long=trek_label(by_days[-1].product),
            days=by_days[-1].product.days,
            short=trek_label(by_days[0].product),
            short_days=_("{days} days").format(days=by_days[0].product.days)
            if by_days[0].product.days != 1
            else _("1 day"),
        )
    if aspect == Aspect.PRICE:
        cheapest = min(treks, key=lambda f: f.product.price_per_person_minor).product
        return _("{trek} costs least: {price} per person.").format(
            trek=trek_label(cheapest),
            price=money(cheapest.price_per_person_minor, cheapest.currency),
        )
    return None  # the season: each line says its months


def comparison(treks: Sequence[Facts], aspects: Sequence[Aspect]) -> str:
    lines = [_("Here's how they compare 🏔️"), "", *(_line(f) for f in treks)]
    verdicts = [v for a in aspects if (v := _verdict(a, treks)) is not None]
    if verdicts:
        lines += ["", *verdicts]
    lines += [
        "",
        _("Tell me which one you like, with your dates and group size, and I'll check seats."),
    ]
    return "\n".join(lines)


def compare_which_treks(products: Sequence[Product]) -> str:
    names = ", ".join(trek_label(p) for p in products)
    return _("Which treks shall I compare? We run: {names}.").format(names=names)
