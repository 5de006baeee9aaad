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
