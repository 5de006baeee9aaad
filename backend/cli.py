"""`tms`: the operator's command line (database, demo data, staff, departures, timeline,
timers)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from backend import clock
from backend.config import Settings, config_verdict, get_settings, redact_url
from backend.db import dispose_engines, transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import Role, Source
from backend.domain.errors import DomainError


def _print_departures(out: list[str]) -> None:
    from backend.services import catalog, inventory

    with transaction() as session:
        out.append(
            f"{'Departure':<34} {'Dates':<26} {'Cap':>4} {'Conf':>5} {'Held':>5} {'Offer':>5} {'Wait':>5} {'Free':>5}"
        )
        for departure in catalog.all_departures(session, from_date=clock.local_today()):
            counts = inventory.seat_counts(session, departure)
            from backend import texts

            out.append(
                f"{departure.product.name:<34} {texts.date_range(departure.start_date, departure.end_date):<26} "
                f"{counts.capacity:>4} {counts.confirmed:>5} {counts.held:>5} {counts.offered:>5} "
                f"{counts.waitlisted:>5} {counts.available if counts.available else 'FULL':>5}"
            )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from backend import migrate

    migrate.upgrade(args.url)
    print("database is at the latest schema")
    return 0


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from backend import migrate

    migrate.downgrade(args.url, args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def cmd_demo_load(args: argparse.Namespace) -> int:
    from devkit import demo_data

    # On the real calendar: the next season, with the Pokhara trip under way today.
    calendar = demo_data.StoryCalendar.next_season(clock.local_today())
    with transaction() as session:
        world = demo_data.load(session, calendar)
    print(
        f"Demo world loaded for the {calendar.season} season: catalog, departures, staff, "
        "guests, waitlist, a trip under way today."
    )
    print("\nStaff API tokens (shown once):")
    for name, token in world.staff_tokens.items():
        print(f"  {name:<14} {token}")
    lines: list[str] = []
    _print_departures(lines)
    print("\n" + "\n".join(lines))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The self-contained demo: the three workflows through the real stack on SQLite."""
    from devkit.demo import run_demo

    return run_demo(serve=bool(getattr(args, "serve", False)))


def cmd_staff_add(args: argparse.Namespace) -> int:
    from backend.services import staff as staff_service

    roles = [r.strip().upper() for value in args.role for r in value.split(",") if r.strip()]
    try:
        unknown = [r for r in roles if r not in Role.__members__]
        if unknown:
            raise DomainError(f"Unknown role {', '.join(unknown)}; roles are {', '.join(Role)}")
        with transaction() as session:
            member, token = staff_service.add_staff(
                session,
                name=args.name,
                phone=args.phone,
                roles=roles,
                email=args.email,
                actor=Actor(Source.ADMIN),
            )
            print(f"Added {member.name} ({member.phone}) as {', '.join(sorted(member.roles))}")
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"API token (shown once, keep it safe): {token}")
    return 0


def _staff_by_phone(session, phone: str):
    from sqlalchemy import select

    from backend.domain.phones import normalise_phone
    from backend.models import Staff

    member = session.scalar(
        select(Staff).where(Staff.phone == normalise_phone(phone, get_settings().default_region))
    )
    if member is None:
        raise DomainError(f"No staff member with phone {phone}")
    return member


def cmd_staff_deactivate(args: argparse.Namespace) -> int:
    from backend.services import staff as staff_service

    with transaction() as session:
        member = _staff_by_phone(session, args.phone)
        staff_service.deactivate(session, member, Actor(Source.ADMIN))
        print(f"Deactivated {member.name} ({member.phone}): their API token no longer works")
    return 0


def cmd_staff_rotate_token(args: argparse.Namespace) -> int:
    from backend.services import staff as staff_service

    with transaction() as session:
        member = _staff_by_phone(session, args.phone)
        token = staff_service.rotate_token(session, member, Actor(Source.ADMIN))
        name = member.name
    print(f"New API token for {name} (shown once; the old one no longer works): {token}")
    return 0


def cmd_staff_login_link(args: argparse.Namespace) -> int:
    from backend.services import staff_auth

    with transaction() as session:
        member = _staff_by_phone(session, args.phone)
        link = staff_auth.login_link(session, member, Actor(Source.ADMIN))
        name = member.name
    print(f"One-time console sign-in link for {name} (valid 24 hours, works once): {link}")
    return 0


def _retry(args: argparse.Namespace, retry) -> int:
    from datetime import datetime

    def moment(value: str | None) -> datetime | None:
        if not value:
            return None
        at = datetime.fromisoformat(value)
        return at if at.tzinfo else at.replace(tzinfo=get_settings().tz)

    if not (args.id or args.since or args.until or args.all):
        print("error: say which: --id N (repeatable), --since/--until, or --all", file=sys.stderr)
        return 2
    with transaction() as session:
        ids = retry(
            session,
            Actor(Source.ADMIN),
            ids=args.id or [],
            since=moment(args.since),
            until=moment(args.until),
            everything=args.all,
        )
    print(f"{len(ids)} failed messages queued again" + (f": {ids}" if ids else ""))
    return 0


def cmd_inbox_retry(args: argparse.Namespace) -> int:
    from backend.whatsapp import inbox

    return _retry(args, inbox.retry_failed)


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from backend.whatsapp import sender

    return _retry(args, sender.retry_failed)


def cmd_mail_retry(args: argparse.Namespace) -> int:
    from backend.services import mail_outbox

    return _retry(args, mail_outbox.retry_failed)


def cmd_mail_list(args: argparse.Namespace) -> int:
    """What the local SMTP server caught (the demo's, the tests'): newest last."""
    from pathlib import Path

    from devkit import local_smtp

    directory = Path(args.dir) if args.dir else local_smtp.capture_dir()
    found = local_smtp.captured(directory)
    if not found:
        print(f"no mail in {directory}")
        return 0
    for mail in found:
        files = ", ".join(f"{name} ({size // 1024} KB)" for name, _, size in mail.attachments)
        print(
            f"{mail.date}  to {mail.to}\n    {mail.subject}"
            + (f"\n    📎 {files}" if files else "")
        )
    print(f"\n{len(found)} messages in {directory}")
    return 0


def cmd_mail_outbox(args: argparse.Namespace) -> int:
    """The mail outbox: what was queued, sent or failed, newest first."""
    from backend.services import mail_outbox

    with transaction() as session:
        for row in mail_outbox.recent(session, limit=args.limit, status=args.status):
            when = row.sent_at or row.failed_at or row.next_attempt_at or row.created_at
            print(
                f"{row.id:>6}  {row.status:<8} {when:%Y-%m-%d %H:%M}  {row.recipient}  "
                f"{row.subject}" + (f"\n        {row.last_error}" if row.last_error else "")
            )
    return 0


def _urls_in_use(settings: Settings) -> list[str]:
    """The URLs the processes would connect to, passwords hidden (`redact_url`)."""
    urls = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SMTP_URL": settings.smtp_url,
        "RASA_URL": settings.rasa_url,
        "ACTION_SERVER_URL": settings.action_server_url,
        "PUBLIC_BASE_URL": settings.public_base_url,
    }
    return [f"  {name}={redact_url(url)}" for name, url in urls.items() if url]


def cmd_check_config(args: argparse.Namespace) -> int:
    """The production verdict on the current environment, without starting anything."""
    settings = get_settings()
    fit, report = config_verdict(settings)
    print(report)
    print("uses:\n" + "\n".join(_urls_in_use(settings)))
    return 0 if fit else 2


def cmd_faq_load(args: argparse.Namespace) -> int:
    """Store the default answers (backend/knowledge/faq.yml) that are not stored yet; an answer
    staff have edited is never overwritten."""
    from backend.services import knowledge

    with transaction() as session:
        added = knowledge.load_defaults(session, SYSTEM)
    print(f"faq: {added} default answer(s) added, {len(knowledge.topics())} topics")
    return 0


def cmd_departures(args: argparse.Namespace) -> int:
    lines: list[str] = []
    _print_departures(lines)
    print("\n".join(lines))
    return 0


# -- disruption (issue 27): the same services as the admin API and the console ----------------
def _ops_actor(session, phone: str | None) -> Actor:
    """Who acts: the staff member `--by` names (operations or admin), else the terminal's
    operator (an ADMIN-source change with no name, as `tms staff deactivate`)."""
    if not phone:
        return Actor(Source.ADMIN)
    member = _staff_by_phone(session, phone)
    if not member.active or not member.has_role(Role.OPS):
        raise DomainError(f"{member.name} is not an active operations manager or admin")
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _departure(session, departure_id: str):
    from backend.http_common import get_or_404
    from backend.models import Departure

    return get_or_404(session, Departure, departure_id, "departure")


def _board_lines(session, departure) -> list[str]:
    from backend import texts
    from backend.services import departure_moves

    move = departure_moves.latest_move(session, departure)
    title = f"{departure.product.name} {texts.date_range(departure.start_date, departure.end_date)}"
    if move is None:
        return [f"{title}: not moved"]
    target = move.to_departure
    lines = [
        f"{title} moved to {texts.date_range(target.start_date, target.end_date)} "
        f"(departure {target.id}): {move.reason}",
        f"answers by {texts.local_datetime(move.offer_expires_at)}",
    ]
    for key, label in (
        ("accepted", "Accepted"),
        ("elsewhere", "Another departure"),
        ("cancelled", "Cancelled"),
        ("waiting", "Waiting"),
        ("to_call", "Call them (no answer in time)"),
    ):
        rows = departure_moves.board(session, move)[key]
        lines.append(f"{label} ({len(rows)})")
        for offer in rows:
            booking = offer.booking
            kept = "" if offer.held else "  seats not kept"
            lines.append(
                f"  {booking.reference:<14} {booking.contact.display_name:<24} "
                f"{booking.contact.address:<16} {offer.seats:>3}{kept}"
            )
    return lines


def _start_date(text: str | None) -> date | None:
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise DomainError(f"Write the start date as YYYY-MM-DD, not {text}") from exc


def cmd_departures_move(args: argparse.Namespace) -> int:
    """Move a departure's bookings to another departure or new dates (`start_move`)."""
    from backend.services import departure_moves

    start = _start_date(args.start_date)
    hours = departure_moves.OFFER_HOURS if args.offer_hours is None else args.offer_hours
    if not 1 <= hours <= 336:
        raise DomainError("The customers answer within 1 to 336 hours")
    with transaction() as session:
        departure = _departure(session, args.departure_id)
        move = departure_moves.start_move(
            session,
            departure.id,
            _ops_actor(session, args.by),
            reason=args.reason,
            to_departure_id=args.to,
            start_date=start,
            offer_hours=hours,
        )
        count = len(departure_moves.offers_of(session, move))
        print(f"Departure moved: {count} booking(s) offered the new dates in the chat")
        print("\n".join(_board_lines(session, departure)))
    return 0


def cmd_departures_board(args: argparse.Namespace) -> int:
    """The answers to a departure's latest move: accepted, declined, waiting, whom to call."""
    with transaction() as session:
        print("\n".join(_board_lines(session, _departure(session, args.departure_id))))
    return 0


def cmd_departures_guarantee(args: argparse.Namespace) -> int:
    """Whether a departure is guaranteed: its minimum, travellers confirmed, the deadline,
    the decision, and whether it still takes new bookings."""
    from backend import texts
    from backend.services import guarantees, inventory

    with transaction() as session:
        departure = _departure(session, args.departure_id)
        found = guarantees.status(session, departure)
        dates = texts.date_range(departure.start_date, departure.end_date)
        print(f"{departure.product.name} {dates}")
        if found.minimum is None:
            print("no minimum group size: the departure runs")
        else:
            state = "guaranteed" if found.guaranteed else "not yet guaranteed"
            print(f"{state}: {found.confirmed} of at least {found.minimum} travellers confirmed")
            if found.deadline is not None:
                print(f"deadline: {found.deadline.isoformat()}")
        print(f"decision: {(found.decision or 'none yet').lower()}")
        why = inventory.closed_reason(session, departure)
        print(f"closed to new bookings: {why}" if why else "open to new bookings")
    return 0


def cmd_departures_decide(args: argparse.Namespace) -> int:
    """Operations decide a departure short of its minimum: run it anyway, or cancel it and
    offer every booking another departure or new dates (`guarantees.run_anyway | cancel`)."""
    from backend.services import departure_moves, guarantees

    if args.decision == "run" and (args.to or args.start_date):
        raise DomainError("--to and --start-date are for cancelling, not for running it")
    start = _start_date(args.start_date)
    with transaction() as session:
        departure = _departure(session, args.departure_id)
        actor = _ops_actor(session, args.by)
        if args.decision == "run":
            guarantees.run_anyway(session, departure, actor, reason=args.reason)
            print("Decided: the departure runs below its minimum (guaranteed from now on)")
            return 0
        move = guarantees.cancel(
            session,
            departure,
            actor,
            reason=args.reason,
            to_departure_id=args.to,
            start_date=start,
        )
        count = len(departure_moves.offers_of(session, move))
        print(f"Decided: the departure is cancelled; {count} booking(s) offered other dates")
        print("\n".join(_board_lines(session, departure)))
    return 0


def cmd_products_guarantee(args: argparse.Namespace) -> int:
    """A trek's minimum group size and its deadline (`guarantees.set_product_terms`)."""
    from backend.services import catalog, guarantees

    with transaction() as session:
        product = catalog.get_product(session, args.code)
        if args.no_minimum:
            minimum = None
        elif args.minimum is not None:
            minimum = args.minimum
        else:
            minimum = product.min_group_size  # only the deadline changes
        days = product.guarantee_days_before if args.days_before is None else args.days_before
        guarantees.set_product_terms(session, product, minimum, days, _ops_actor(session, args.by))
        shown = (
            "no minimum: its departures run whatever their size"
            if minimum is None
            else f"at least {minimum} travellers, decided "
            f"{guarantees.DEFAULT_DAYS_BEFORE if days is None else days} days before the start"
        )
        print(f"{product.name}: {shown}")
    return 0


def cmd_trips_shift(args: argparse.Namespace) -> int:
    """Shift the rest of a trip under way by N days (`trip_shifts.shift_trip`)."""
    from backend.services import trip_shifts, trips

    with transaction() as session:
        trip = trips.find_trip(session, args.reference)
        trip_shifts.shift_trip(
            session, trip, args.days, _ops_actor(session, args.by), reason=args.reason
        )
        print(
            f"Trip {trip.reference} shifted by {args.days} day(s): it now ends on "
            f"{trip.departure.end_date.isoformat()}; the guests and the staff are told"
        )
    return 0


def cmd_message_rates_list(args: argparse.Namespace) -> int:
    from backend.services import message_prices

    with transaction() as session:
        lines = message_prices.rate_card(session)
        later = message_prices.upcoming(session)
        print(f"{'Market':<26} {'Code':>5} {'Category':<16} {'Price':>10} {'Cur':<4} From")
        for row in [*lines, *later]:
            code = f"+{row.calling_code}" if row.calling_code else "*"
            print(
                f"{row.market:<26} {code:>5} {row.category:<16} {row.price:>10} "
                f"{row.currency:<4} {row.valid_from}"
            )
    return 0


def cmd_message_rates_set(args: argparse.Namespace) -> int:
    from datetime import date

    from backend.services import message_prices

    with transaction() as session:
        row = message_prices.set_rate(
            session,
            market=args.market,
            calling_code=args.calling_code,
            category=args.category,
            price=args.price,
            currency=args.currency,
            valid_from=date.fromisoformat(args.valid_from) if args.valid_from else None,
            actor=Actor(Source.ADMIN),
        )
        print(
            f"{row.market} (+{row.calling_code or '*'}) {row.category}: {row.price} "
            f"{row.currency} per delivered message from {row.valid_from}"
        )
    return 0


def cmd_spend(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from backend.services import message_prices

    until = date.fromisoformat(args.until) if args.until else clock.local_today()
    since = date.fromisoformat(args.since) if args.since else until - timedelta(days=90)
    with transaction() as session:
        spent = message_prices.spend_for_days(session, since, until)
    total = " + ".join(f"{amount} {cur}" for cur, amount in (spent.total or {}).items())
    print(f"WhatsApp spend {since} to {until}: {total or 'nothing billed'}")
    print(
        f"{spent.messages} messages delivered, {spent.billable} billed, "
        f"{spent.unpriced} billed but not priced (no rate card line)"
    )
    for title, name, lines in (
        ("By month", "month", spent.by_month),
        ("By purpose", "purpose", spent.by_purpose),
        ("By country", "country", spent.by_country),
    ):
        print(f"\n{title}")
        for line in lines or []:
            print(
                f"  {line[name]:<16} {line['messages']:>6} {line['amount']:>12} {line['currency']}"
            )
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    import json

    from backend.services import timeline

    with transaction() as session:
        events = timeline.for_object(session, args.object_type.upper(), args.object_id)
        for event in events:
            print(json.dumps(event.as_dict(), ensure_ascii=False))
    return 0


def cmd_templates_sync(args: argparse.Namespace) -> int:
    import asyncio

    from backend.whatsapp import template_sync

    report = asyncio.run(template_sync.sync())
    for label, names in (("added", report.added), ("changed", report.changed)):
        print(f"{label}: {', '.join(names) or '-'}")
    print(f"no longer at Meta: {', '.join(report.gone) or '-'}; unchanged: {report.unchanged}")
    return 0


def cmd_messaging_limit(args: argparse.Namespace) -> int:
    import asyncio

    from backend.services import messaging_limits
    from backend.whatsapp import limit_sync

    if getattr(args, "limit_command", None) == "sync":
        status = asyncio.run(limit_sync.sync())
    else:
        with transaction() as session:
            status = messaging_limits.status(session)
    limit = "unlimited" if status["limit"] is None else f"{status['limit']:,}"
    print(f"{status['tier']} ({limit} users a day outside the window; from {status['source']})")
    print(f"users messaged outside their window in the last 24 hours: {status['uniqueUsers24h']}")
    return 0


def cmd_templates_list(args: argparse.Namespace) -> int:
    from backend.services import message_templates

    with transaction() as session:
        for t in message_templates.records(session):
            was = f" (was {t.previous_category})" if t.previous_category else ""
            print(f"{t.name}\t{t.language}\t{t.category}{was}\t{t.status}\t{t.quality}")
    return 0


def cmd_travellers_rotate_keys(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services import travellers

    with transaction() as session:
        rows, photos = travellers.reseal_all(session)
    print(
        f"re-sealed {rows} travellers' details and {photos} photos under the newest key of "
        "TRAVELLER_DATA_KEYS: the older keys may now be removed"
    )
    return 0


def cmd_travellers_purge(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services import travellers

    with transaction() as session:
        purged = travellers.purge_due(session)
    print(f"purged the papers of {purged} travellers whose trip ended long enough ago")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    # Checked here, before any part starts: otherwise the one that refuses says why only in
    # its own log, and the terminal just sees it exit. A TMS_ENV typo is refused too.
    fit, report = config_verdict(settings)
    if not fit:
        print(f"serve: refusing to start.\n{report}", file=sys.stderr)
        return 2
    from backend.stack import serve

    return serve()


def cmd_chat(args: argparse.Namespace) -> int:
    from devkit.chat import chat

    return chat(args.phone, say=list(args.say) if args.say else None, wait=args.wait)


def cmd_pay(args: argparse.Namespace) -> int:
    """What the local payment provider does when a customer pays: a signed webhook."""
    from sqlalchemy import select

    from backend.domain import references
    from backend.domain.enums import PaymentKind
    from backend.models import Booking
    from backend.payments.provider import payment_event, post_payment_webhook
    from backend.services.payments import amount_for

    settings = get_settings()
    if settings.is_production and settings.payment_provider != "local":
        print("error: `tms pay` is the local provider's, not for production", file=sys.stderr)
        return 2
    with transaction() as session:
        booking = session.scalar(
            select(Booking).where(Booking.ref_key == references.reference_key(args.reference))
        )
        if booking is None:
            print(f"error: no booking {args.reference}", file=sys.stderr)
            return 2
        kind = PaymentKind(args.kind.upper())
        amount = args.amount_minor if args.amount_minor is not None else amount_for(booking, kind)
        event = payment_event(booking.reference, amount, booking.currency, str(kind))
    answer = post_payment_webhook(
        args.backend_url or f"http://127.0.0.1:{settings.backend_port}", event
    )
    print(f"{answer.status_code} {answer.text}")
    if answer.status_code == 404:
        # The local provider's webhook is mounted only with PAYMENT_PROVIDER=local.
        print("(is the backend running with PAYMENT_PROVIDER=local?)", file=sys.stderr)
    return 0 if answer.status_code == 200 else 1


def _timer_service_run(work):
    """Run `work(service)` with a paused timer service (start-up reconciles) on this database.

    On PostgreSQL it first takes the scheduler's advisory lock, so it never runs beside a
    live scheduler; stop the service (or let it reconcile on its own) otherwise."""
    import asyncio

    from backend.scheduler.leader import Leadership
    from backend.scheduler.service import TimerService

    leadership = Leadership(get_settings().database_url)
    if not leadership.acquire():
        print(
            "error: a running backend holds the scheduler lock; it reconciles at start-up and "
            f"every {get_settings().scheduler_reconcile_minutes:g} minutes",
            file=sys.stderr,
        )
        return 2

    async def go() -> int:
        service = TimerService(event_loop=asyncio.get_running_loop())
        try:
            report = service.start(paused=True, maintenance=False)
            print(f"reconciled: {report}")
            return int(work(service))
        finally:
            service.shutdown()
            await asyncio.sleep(0)

    try:
        return asyncio.run(go())
    finally:
        leadership.release()


def cmd_timers_list(args: argparse.Namespace) -> int:
    from collections import Counter
    from datetime import UTC, datetime

    from sqlalchemy import select

    from backend import texts
    from backend.models.scheduling import apscheduler_jobs

    with transaction() as session:
        rows = session.execute(
            select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time).order_by(
                apscheduler_jobs.c.next_run_time
            )
        ).all()
    rows = [r for r in rows if args.kind is None or r[0].startswith(f"{args.kind}:")]
    counts = Counter(job_id.split(":")[0] for job_id, _ in rows)
    print(f"{len(rows)} timer jobs: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    for job_id, when in rows[: args.limit]:
        at = texts.local_datetime(datetime.fromtimestamp(when, UTC)) if when else "paused"
        print(f"  {at:<22} {job_id}")
    return 0


def cmd_timers_reconcile(args: argparse.Namespace) -> int:
    return _timer_service_run(lambda service: 0)


def cmd_timers_run_due(args: argparse.Namespace) -> int:
    from datetime import datetime

    as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=get_settings().tz)

    def work(service) -> int:
        if as_of is None:
            results = service.run_due(only=args.only)
        else:
            with clock.frozen(as_of):
                results = service.run_due(only=args.only)
        for job_id, outcome in results:
            print(f"  {job_id}: {outcome}")
        print(f"{len(results)} timers run")
        return 0

    return _timer_service_run(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tms", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="migrate to the latest schema")
    up.add_argument("--url", help="database URL (default: DATABASE_URL)")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("revision", nargs="?", default="base")
    down.add_argument("--url")
    down.set_defaults(func=cmd_db_downgrade)

    demo = sub.add_parser("demo", help="run the demo, or `tms demo load` the demo world")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep the stack running after the demo, for the staff console",
    )
    demo.set_defaults(func=cmd_demo)
    demo_sub = demo.add_subparsers(dest="demo_command")
    demo_sub.add_parser("load", help="load the demo world into DATABASE_URL").set_defaults(
        func=cmd_demo_load
    )

    staff = sub.add_parser("staff", help="staff members").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser("add", help="add a staff member and print their API token")
    add.add_argument("--name", required=True)
    add.add_argument("--phone", required=True)
    add.add_argument(
        "--role",
        required=True,
        action="append",
        help=f"one of {', '.join(Role)}; repeat or comma-separate",
    )
    add.add_argument("--email")
    add.set_defaults(func=cmd_staff_add)

    deactivate = staff.add_parser(
        "deactivate", help="a member leaves: their API token stops working at once"
    )
    deactivate.add_argument("--phone", required=True)
    deactivate.set_defaults(func=cmd_staff_deactivate)
    rotate = staff.add_parser("rotate-token", help="a new API token; the old one stops working")
    rotate.add_argument("--phone", required=True)
    rotate.set_defaults(func=cmd_staff_rotate_token)
    login = staff.add_parser(
        "login-link", help="a one-time console sign-in link (the first sign-in, a lost phone)"
    )
    login.add_argument("--phone", required=True)
    login.set_defaults(func=cmd_staff_login_link)

    sub.add_parser(
        "check-config", help="is this environment fit for production? (TMS_ENV, secrets, ...)"
    ).set_defaults(func=cmd_check_config)

    for queue_name, func, what in (
        (
            "inbox",
            cmd_inbox_retry,
            "messages from customers and guides that could not be processed",
        ),
        ("outbox", cmd_outbox_retry, "messages to send that failed"),
        ("mail", cmd_mail_retry, "e-mails that could not be sent"),
    ):
        queue_parser = sub.add_parser(queue_name, help=f"the {queue_name}").add_subparsers(
            dest=f"{queue_name}_command", required=True
        )
        retry = queue_parser.add_parser("retry", help=f"queue FAILED {what} again")
        if queue_name == "mail":
            mail_list = queue_parser.add_parser(
                "list", help="the mail the local SMTP server caught (the demo's)"
            )
            mail_list.add_argument("--dir", help="the capture directory (MAIL_CAPTURE_DIR)")
            mail_list.set_defaults(func=cmd_mail_list)
            mail_outbox = queue_parser.add_parser("outbox", help="e-mails queued, sent, failed")
            mail_outbox.add_argument("--status", choices=["queued", "sending", "sent", "failed"])
            mail_outbox.add_argument("--limit", type=int, default=50)
            mail_outbox.set_defaults(func=cmd_mail_outbox)
        retry.add_argument("--id", type=int, action="append", help="a message id (repeatable)")
        retry.add_argument("--since", help="failed/stored from this moment (ISO; local if no zone)")
        retry.add_argument("--until", help="... until this moment")
        retry.add_argument("--all", action="store_true", help="every FAILED message")
        retry.set_defaults(func=func)

    pay = sub.add_parser("pay", help="the local payment provider pays a booking (demo, tests)")
    pay.add_argument("reference", help="the booking reference, e.g. EBC-2412004")
    pay.add_argument("--kind", default="deposit", choices=["deposit", "balance", "full"])
    pay.add_argument("--amount-minor", type=int, help="pay this instead (cents): a wrong amount")
    pay.add_argument("--backend-url", help="default: the local backend on BACKEND_PORT")
    pay.set_defaults(func=cmd_pay)

    faq = sub.add_parser("faq", help="the assistant's answers to practical questions")
    faq.add_subparsers(dest="faq_command", required=True).add_parser(
        "load", help="store the default answers not stored yet (edits are kept)"
    ).set_defaults(func=cmd_faq_load)

    departures = sub.add_parser(
        "departures", help="departures with availability; move one, its board, its guarantee"
    )
    departures.set_defaults(func=cmd_departures)
    departures_sub = departures.add_subparsers(dest="departures_command")
    by_help = "the staff member acting (phone; operations or admin), for the timeline"
    move = departures_sub.add_parser(
        "move", help="offer every booking another departure or new dates (issue 27)"
    )
    move.add_argument("departure_id")
    target = move.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="DEPARTURE_ID", help="an existing departure")
    target.add_argument("--start-date", metavar="YYYY-MM-DD", help="new dates: one is created")
    move.add_argument("--reason", required=True, help="the customers read it")
    move.add_argument("--offer-hours", type=int, help="time to answer (72)")
    move.add_argument("--by", metavar="PHONE", help=by_help)
    move.set_defaults(func=cmd_departures_move)
    board = departures_sub.add_parser("board", help="the answers to a departure's move")
    board.add_argument("departure_id")
    board.set_defaults(func=cmd_departures_board)
    guarantee = departures_sub.add_parser(
        "guarantee", help="minimum group size, travellers confirmed, deadline, decision"
    )
    guarantee.add_argument("departure_id")
    guarantee.set_defaults(func=cmd_departures_guarantee)
    decide = departures_sub.add_parser(
        "decide", help="run a departure short of its minimum anyway, or cancel it"
    )
    decide.add_argument("departure_id")
    decide.add_argument("decision", choices=["run", "cancel"])
    decide.add_argument("--reason", required=True, help="the customers read it when cancelled")
    decide_target = decide.add_mutually_exclusive_group()
    decide_target.add_argument("--to", metavar="DEPARTURE_ID", help="cancel: offer this one")
    decide_target.add_argument("--start-date", metavar="YYYY-MM-DD", help="cancel: new dates")
    decide.add_argument("--by", metavar="PHONE", help=by_help)
    decide.set_defaults(func=cmd_departures_decide)

    products = sub.add_parser("products", help="the treks' own settings").add_subparsers(
        dest="products_command", required=True
    )
    product_terms = products.add_parser(
        "guarantee", help="a trek's minimum group size and its deadline (days before the start)"
    )
    product_terms.add_argument("code", help="the trek's code, e.g. EBC")
    minimum = product_terms.add_mutually_exclusive_group()
    minimum.add_argument("--minimum", type=int, help="travellers needed for a departure to run")
    minimum.add_argument("--no-minimum", action="store_true", help="departures always run")
    product_terms.add_argument("--days-before", type=int, help="the deadline (30 if never set)")
    product_terms.add_argument("--by", metavar="PHONE", help=by_help)
    product_terms.set_defaults(func=cmd_products_guarantee)

    trips_parser = sub.add_parser("trips", help="trips under way").add_subparsers(
        dest="trips_command", required=True
    )
    shift = trips_parser.add_parser(
        "shift", help="shift the rest of a trip under way by N days (contingency days)"
    )
    shift.add_argument("reference", help="the trip's reference, or a booking's on it")
    shift.add_argument("--days", type=int, required=True)
    shift.add_argument("--reason", required=True, help="the guests read it")
    shift.add_argument("--by", metavar="PHONE", help=by_help)
    shift.set_defaults(func=cmd_trips_shift)

    rates = sub.add_parser("message-rates", help="Meta's WhatsApp rate card as kept here")
    rates_sub = rates.add_subparsers(dest="rates_command", required=True)
    rates_sub.add_parser("list", help="the lines valid today and those to come").set_defaults(
        func=cmd_message_rates_list
    )
    rate_set = rates_sub.add_parser("set", help="set a price per delivered message")
    rate_set.add_argument("market", help="Meta's market name, e.g. Germany")
    rate_set.add_argument("calling_code", help='e.g. 49; "" for every other number')
    rate_set.add_argument("category", help="marketing, utility, authentication, ...")
    rate_set.add_argument("price", help="e.g. 0.1365")
    rate_set.add_argument("--currency", default="USD")
    rate_set.add_argument("--from", dest="valid_from", help="YYYY-MM-DD (today if none)")
    rate_set.set_defaults(func=cmd_message_rates_set)
    spend = sub.add_parser("spend", help="what WhatsApp messages cost: month, purpose, country")
    spend.add_argument("--since", help="YYYY-MM-DD (90 days before --until if none)")
    spend.add_argument("--until", help="YYYY-MM-DD (today if none)")
    spend.set_defaults(func=cmd_spend)

    papers = sub.add_parser("travellers", help="the traveller file's keys and retention")
    papers_sub = papers.add_subparsers(dest="travellers_command", required=True)
    papers_sub.add_parser(
        "rotate-keys", help="re-seal every traveller's papers under the newest key"
    ).set_defaults(func=cmd_travellers_rotate_keys)
    papers_sub.add_parser(
        "purge", help="purge the papers past TRAVELLER_PURGE_DAYS now (the scheduler does hourly)"
    ).set_defaults(func=cmd_travellers_purge)

    sub.add_parser("serve", help="run the whole stack in the foreground").set_defaults(
        func=cmd_serve
    )
    chat = sub.add_parser("chat", help="chat as a customer or guide through the running stack")
    chat.add_argument("--phone", required=True, help="the WhatsApp number to chat as")
    chat.add_argument("--say", action="append", help="send this line and exit (repeatable)")
    chat.add_argument("--wait", type=float, default=30.0, help="seconds to wait for replies")
    chat.set_defaults(func=cmd_chat)

    timers = sub.add_parser("timers", help="the scheduler's timed jobs").add_subparsers(
        dest="timers_command", required=True
    )
    tlist = timers.add_parser("list", help="timer jobs by kind, soonest first")
    tlist.add_argument("--kind", help="e.g. hold-expiry, balance-reminder-7d")
    tlist.add_argument("--limit", type=int, default=20)
    tlist.set_defaults(func=cmd_timers_list)
    timers.add_parser(
        "reconcile", help="make the jobs match the data now (no running scheduler)"
    ).set_defaults(func=cmd_timers_reconcile)
    due = timers.add_parser("run-due", help="run the timers that are due (no running scheduler)")
    due.add_argument(
        "--as-of",
        help="act as if it were this moment (ISO, operator's timezone if none): for demos "
        "and staging only, it sends what would go out then",
    )
    due.add_argument("--only", help="job ids starting with this, e.g. pre-departure:")
    due.set_defaults(func=cmd_timers_run_due)

    limit = sub.add_parser(
        "messaging-limit", help="Meta's messaging limit (users a day outside the window)"
    )
    limit.set_defaults(func=cmd_messaging_limit)
    limit.add_subparsers(dest="limit_command").add_parser(
        "sync", help="read it from the phone number at Meta"
    ).set_defaults(func=cmd_messaging_limit)
    templates = sub.add_parser("templates", help="WhatsApp message templates as Meta holds them")
    templates_sub = templates.add_subparsers(dest="templates_command", required=True)
    templates_sub.add_parser(
        "sync", help="read them from Meta's message_templates into the records"
    ).set_defaults(func=cmd_templates_sync)
    templates_sub.add_parser("list", help="name, language, category, status, quality").set_defaults(
        func=cmd_templates_list
    )

    tl = sub.add_parser("timeline", help="the timeline of one object")
    tl.add_argument("object_type", help="LEAD, BOOKING, TRIP, ...")
    tl.add_argument("object_id")
    tl.set_defaults(func=cmd_timeline)
    return parser


# The commands that run the development kit (`devkit/`): never in production, where the image
# does not even contain it.
DEVELOPMENT_KIT_COMMANDS = (cmd_demo, cmd_demo_load, cmd_chat, cmd_mail_list)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func in DEVELOPMENT_KIT_COMMANDS and get_settings().is_production:
        print(
            "error: this command runs the development kit (demo, fakes), never in production",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        dispose_engines()


if __name__ == "__main__":
    sys.exit(main())
