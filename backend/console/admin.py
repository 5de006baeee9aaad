"""Administration (ADMIN): staff, roles, tokens and (de)activation; products and departures."""

from __future__ import annotations

from datetime import date
from typing import Any

from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock, texts
from backend.config import get_settings
from backend.console.forms import amount_minor, whole_number
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.currencies import currency_name
from backend.domain.enums import Role
from backend.domain.errors import DomainError
from backend.http_common import get_or_404
from backend.models import Departure, Product, Staff
from backend.services import cancellation_policy as policy
from backend.services import catalog, rates
from backend.services import staff as staff_service


@console_bp.get("/admin")
@console_page(Area.STAFF_ADMIN)
def admin_page(ctx: Ctx) -> HTTPResponse:
    return _admin(ctx)


def _admin(ctx: Ctx, new_token: dict[str, str] | None = None) -> HTTPResponse:
    products = list(ctx.session.scalars(select(Product).order_by(Product.code)))
    return ctx.page(
        "admin.html",
        products=products,
        **_money_settings(ctx, products),
        departures=catalog.all_departures(ctx.session, from_date=clock.local_today()),
        staff=list(ctx.session.scalars(select(Staff).order_by(Staff.name))),
        roles=list(Role),
        new_token=new_token,
        fresh_minutes=get_settings().fresh_sign_in_minutes,
    )


@console_bp.post("/admin/staff")
@console_page(Area.STAFF_ADMIN)
def admin_add_staff(ctx: Ctx) -> HTTPResponse:
    roles = [r for r in Role if ctx.form(f"role_{r}") == "1"]
    member, _token = staff_service.add_staff(
        ctx.session,
        name=ctx.form("name")[:120] or "",
        phone=ctx.form("phone"),
        roles=roles,
        email=ctx.form("email")[:200] or None,
        actor=ctx.actor,
    )
    return ctx.done("/console/admin", f"{member.name} added; they sign in with a WhatsApp code")


@console_bp.post("/admin/staff/<staff_id:str>/deactivate")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_deactivate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.deactivate(ctx.session, worker, ctx.actor)  # ends their sessions too
    return ctx.done("/console/admin", f"{worker.name} deactivated and signed out everywhere")


@console_bp.post("/admin/staff/<staff_id:str>/reactivate")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_reactivate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.reactivate(ctx.session, worker, ctx.actor)
    return ctx.done(
        "/console/admin", f"{worker.name} is active again; they sign in with a WhatsApp code"
    )


@console_bp.post("/admin/staff/<staff_id:str>/availability")
@console_page(Area.STAFF_ADMIN)
def admin_availability(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.set_available(ctx.session, worker, ctx.form("available") == "1", ctx.actor)
    return ctx.done(
        "/console/admin", f"{worker.name} is {'available' if worker.available else 'away'}"
    )


@console_bp.post("/admin/staff/<staff_id:str>/rotate-token")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_rotate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    token = staff_service.rotate_token(ctx.session, worker, ctx.actor)
    # Shown once, on this response only (never stored, never in a redirect URL).
    return _admin(ctx, {"name": worker.name, "token": token})


def _admin_int(ctx: Ctx, name: str, label: str, low: int, high: int) -> int | None:
    raw = ctx.form(name)
    return whole_number(raw, label, low, high) if raw else None


def _product_values(ctx: Ctx) -> dict[str, Any]:
    aliases = ctx.form("aliases")
    return {
        "name": ctx.form("name")[:120] or None,
        "short_name": ctx.form("short_name")[:60] or None,
        "aliases": [a for a in aliases.split(",")] if aliases else None,
        "days": _admin_int(ctx, "days", "Days", 1, 60),
        "price_per_person_minor": amount_minor(ctx.form("price"), "Price per person"),
        "deposit_percent": _admin_int(ctx, "deposit_percent", "Deposit %", 0, 100),
        "early_bird_percent": _admin_int(ctx, "early_bird_percent", "Early-bird %", 0, 50),
        "early_bird_days_before": _admin_int(
            ctx, "early_bird_days_before", "Early-bird days", 0, 365
        ),
        "balance_due_days_before": _admin_int(
            ctx, "balance_due_days_before", "Balance due days", 0, 365
        ),
    }


@console_bp.post("/admin/products")
@console_page(Area.ADMINISTRATION)
def admin_add_product(ctx: Ctx) -> HTTPResponse:
    values = {k: v for k, v in _product_values(ctx).items() if v is not None}
    if "days" not in values or "price_per_person_minor" not in values or "name" not in values:
        raise DomainError("A new product needs a name, days and a price")
    product = catalog.create_product(ctx.session, code=ctx.form("code"), actor=ctx.actor, **values)
    return ctx.done("/console/admin", f"{product.code} added")


@console_bp.post("/admin/products/<product_id:str>")
@console_page(Area.ADMINISTRATION)
def admin_change_product(ctx: Ctx, product_id: str) -> HTTPResponse:
    product = get_or_404(ctx.session, Product, product_id, "product")
    changed = catalog.update_product(ctx.session, product, ctx.actor, **_product_values(ctx))
    return ctx.done("/console/admin", f"{product.code}: {', '.join(changed) or 'nothing changed'}")


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as exc:
        raise DomainError("Dates are written 2026-03-31") from exc


@console_bp.post("/admin/departures")
@console_page(Area.ADMINISTRATION)
def admin_add_departure(ctx: Ctx) -> HTTPResponse:
    product = get_or_404(ctx.session, Product, ctx.form("product_id"), "product")
    start = _day(ctx.form("start_date"))
    capacity = _admin_int(ctx, "capacity", "Capacity", 1, 500)
    if start is None or capacity is None:
        raise DomainError("A departure needs a start date and a capacity")
    departure = catalog.create_departure(
        ctx.session,
        product,
        start_date=start,
        capacity=capacity,
        meeting_point=ctx.form("meeting_point")[:120] or None,
        meeting_time=ctx.form("meeting_time") or None,
        actor=ctx.actor,
    )
    return ctx.done("/console/admin", f"{product.code} departure on {departure.start_date} added")


@console_bp.post("/admin/departures/<departure_id:str>")
@console_page(Area.ADMINISTRATION)
def admin_change_departure(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    changed = catalog.update_departure(
        ctx.session,
        departure,
        ctx.actor,
        capacity=_admin_int(ctx, "capacity", "Capacity", 1, 500),
        meeting_point=ctx.form("meeting_point")[:120] or None,
        meeting_time=ctx.form("meeting_time") or None,
        start_date=_day(ctx.form("start_date")),
    )
    return ctx.done(
        "/console/admin",
        f"Departure of {departure.start_date}: {', '.join(changed) or 'nothing changed'}",
    )


@console_bp.post("/admin/staff/<staff_id:str>/roles")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_roles(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.set_roles(
        ctx.session, worker, [r for r in Role if ctx.form(f"role_{r}") == "1"], ctx.actor
    )
    return ctx.done("/console/admin", f"{worker.name}: {', '.join(sorted(worker.roles)).lower()}")


# -- money settings: exchange rates and the cancellation policy (issue 23) ---------------------
POLICY_ROWS = 6  # lines a policy form offers (its lines, then blank rows)


def _money_settings(ctx: Ctx, products: list[Product]) -> dict[str, Any]:
    """The rates' history (newest first per currency) and each policy's lines, for the page."""
    house_currency = policy.house_currency(ctx.session)
    house = policy.own_lines(ctx.session, None)
    return {
        "base_currency": rates.base_currency(ctx.session),
        "rate_history": rates.history(ctx.session),
        "currency_name": currency_name,
        "today": clock.local_today(),
        "policy_rows": POLICY_ROWS,
        "house_policy": {
            "lines": house,
            "currency": house_currency,
            "summary": texts.policy_lines_summary(house, house_currency),
        },
        "product_policies": {
            p.id: {"own": own, "summary": texts.policy_lines_summary(own, p.currency)}
            for p in products
            for own in [policy.own_lines(ctx.session, p)]
        },
    }


@console_bp.post("/admin/rates")
@console_page(Area.ADMINISTRATION)
def admin_set_rate(ctx: Ctx) -> HTTPResponse:
    row = rates.set_rate(
        ctx.session,
        currency=ctx.form("currency")[:3],
        base_currency=rates.base_currency(ctx.session),
        rate=ctx.form("rate")[:32],
        buffer_percent=ctx.form("buffer_percent")[:16] or "0",
        valid_from=_day(ctx.form("valid_from")),
        actor=ctx.actor,
    )
    return ctx.done(
        "/console/admin#rates-h",
        f"1 {row.currency} = {row.rate} {row.base_currency} from {row.valid_from.isoformat()}",
    )


def _policy_lines(ctx: Ctx, currency: str) -> list[policy.PolicyLine]:
    """The rows typed into a policy form; a row without its days is left out."""
    lines = []
    for n in range(POLICY_ROWS):
        days = ctx.form(f"days_{n}")
        if not days.strip():
            continue
        fee = amount_minor(ctx.form(f"fee_{n}"), f"Fee of line {n + 1}") or 0
        if currency.upper() == "JPY":
            fee //= 100
        lines.append(
            policy.PolicyLine(
                whole_number(days, f"Days of line {n + 1}", 0, 730),
                whole_number(ctx.form(f"percent_{n}") or "0", f"% of line {n + 1}", 0, 100),
                fee,
                ctx.form(f"note_{n}")[:300].strip() or None,
            )
        )
    return lines


@console_bp.post("/admin/policy")
@console_page(Area.ADMINISTRATION)
def admin_house_policy(ctx: Ctx) -> HTTPResponse:
    lines = _policy_lines(ctx, policy.house_currency(ctx.session))
    policy.replace_lines(ctx.session, None, lines, actor=ctx.actor)
    return ctx.done("/console/admin#policy-h", "The house cancellation policy is saved")


@console_bp.post("/admin/products/<product_id:str>/policy")
@console_page(Area.ADMINISTRATION)
def admin_product_policy(ctx: Ctx, product_id: str) -> HTTPResponse:
    product = get_or_404(ctx.session, Product, product_id, "product")
    house = ctx.form("house") == "1"
    lines = [] if house else _policy_lines(ctx, product.currency)
    if not house and not lines:
        raise DomainError("Give the policy's lines, or tick “Follow the house policy”")
    policy.replace_lines(ctx.session, product, lines, actor=ctx.actor)
    told = "follows the house policy" if house else "has its own cancellation policy"
    return ctx.done("/console/admin#policy-h", f"{product.code} {told}")
