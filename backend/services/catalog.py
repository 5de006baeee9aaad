"""The catalogue: products by code, name or alias, and their departures."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.errors import NotFound
from backend.models import Departure, Product


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def find_product(session: Session, text: str) -> Product | None:
    """By code (`EBC`), name (`Everest Base Camp Trek`) or alias (`everest bc`), any case."""
    wanted = _norm(text)
    if not wanted:
        return None
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        names = {product.code.lower(), _norm(product.name), _norm(product.short_name)}
        names |= {_norm(a) for a in product.aliases}
        if wanted in names:
            return product
    return None


def get_product(session: Session, code: str) -> Product:
    product = session.scalar(select(Product).where(Product.code == code.upper()))
    if product is None:
        raise NotFound(f"No product with code {code}")
    return product


def departures_of(
    session: Session, product: Product, *, from_date: date | None = None
) -> list[Departure]:
    query = select(Departure).where(Departure.product_id == product.id)
    if from_date:
        query = query.where(Departure.start_date >= from_date)
    return list(session.scalars(query.order_by(Departure.start_date)))


def get_departure(session: Session, departure_id: str) -> Departure:
    departure = session.get(Departure, departure_id)
    if departure is None:
        raise NotFound(f"No departure {departure_id}")
    return departure


def all_departures(session: Session, *, from_date: date | None = None) -> list[Departure]:
    query = select(Departure).join(Product)
    if from_date:
        query = query.where(Departure.end_date >= from_date)
    return list(session.scalars(query.order_by(Departure.start_date, Product.code)))


def active_products(session: Session) -> list[Product]:
    return list(
        session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.name))
    )


def departures_in_window(
    session: Session, product: Product, start: date, end: date
) -> list[Departure]:
    query = select(Departure).where(
        Departure.product_id == product.id,
        Departure.start_date >= start,
        Departure.start_date <= end,
    )
    return list(session.scalars(query.order_by(Departure.start_date)))


def departure_on(session: Session, product: Product, day: date) -> Departure | None:
    return session.scalar(
        select(Departure).where(Departure.product_id == product.id, Departure.start_date == day)
    )


def find_product_in_text(session: Session, text: str) -> Product | None:
    """The product a free sentence mentions ("the everest one please" → EBC), longest name first."""
    wanted = f" {_norm(text)} "
    candidates: list[tuple[int, Product]] = []
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        for name in {product.code.lower(), _norm(product.name), _norm(product.short_name)} | {
            _norm(a) for a in product.aliases
        }:
            if name and f" {name} " in wanted:
                candidates.append((len(name), product))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None
