"""What customers read: enquiry, quote, hold, payment, the waitlist, answers, reminders, the
trip's news, consent, and the titles of the buttons they tap.

Every sentence is a message id for `gettext` (`backend.i18n`), English as written here and
translated in `backend/locale/`: whole messages, or whole sentences where a message is built
from parts, with named placeholders. The button titles and the checklist are read when used
(`__getattr__`), in the language of that moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from backend import links
from backend.config import get_settings
from backend.domain.money import Money, Quote
from backend.domain.wishes import Miss
from backend.i18n import _, ngettext
from backend.models import Booking, Departure, Lead, Product, Staff, Trip
from backend.texts.format import (
    N_,
    currency_words,
    date_range,
    day_month,
    local_datetime,
    local_time,
    long_date,
    money,
    number,
    payment_link,
    range_without_year,
    short_day_month,
    trek_label,
)
from backend.texts.treks import trek_texts


class RecommendedTrip(Protocol):
    """What the recommendation copy reads of a trip assessed against a wish
    (`backend.services.recommend.Fit`)."""

    @property
    def product(self) -> Product: ...

    @property
    def departures(self) -> list[tuple[Departure, int]]: ...

    @property
    def total_minor(self) -> int | None: ...

    @property
    def misses(self) -> list[Miss]: ...


def _first_name(name: str) -> str:
    return name.split()[0]


def enquiry_received(lead: Lead, month_hint: str | None) -> str:
    product = lead.product
    # NOTE: Stands in for the trek's name when the enquiry has none yet: "your interest in our
    # treks".
    name = trek_label(product) if product else _("our treks")
    dates_line = (
        _("✓ Available dates in {month}").format(month=month_hint)
        if month_hint
        else _("✓ Available dates")
    )
    return _(
        "Thank you for your interest in {trek}! 🏔️\n\n"
        "I've created your enquiry (Ref: {reference}).\n\n"
        "A sales expert will contact you within 2 hours with:\n"
        "✓ Detailed itinerary\n"
        "✓ Pricing options\n"
        "{dates_line}\n\n"
        "Can you share:\n"
        "1. Specific dates or flexibility?\n"
        "2. Fitness level of group?\n"
        "3. Any special requirements?"
    ).format(trek=name, reference=lead.reference, dates_line=dates_line)


def quote_message(
    rep: Staff | None, departure: Departure, quote: Quote, indicative: Money | None = None
) -> str:
    """Workflow 1 step 2. `indicative`: the total in the customer's own currency at today's
    rate plus its buffer, when a rate is set and their currency is not the price's."""
    product = departure.product
    operator = get_settings().operator_name
    greeting = (
        _("Hello! I'm {name} from {operator} 👋").format(
            name=_first_name(rep.name), operator=operator
        )
        if rep
        else _("Hello from {operator} 👋").format(operator=operator)
    )
    party = quote.party_size
    lines = [
        greeting,
        "",
        _("Great choice on {trek}! Here's what we have:").format(trek=trek_label(product)),
        "",
        # NOTE: English writes "days" for any number; a language may say "1 day".
        ngettext(
            "📅 Departure: {dates} ({days} days)",
            "📅 Departure: {dates} ({days} days)",
            product.days,
        ).format(dates=date_range(departure.start_date, departure.end_date), days=product.days),
        ngettext("👥 Group: {count} person", "👥 Group: {count} people", party).format(count=party),
        _("💰 Price: {price} per person").format(price=quote.price_per_person),
        "",
        _("Includes:"),
        *[f"✓ {item}" for item in trek_texts(product).inclusions],
        "",
        ngettext("Total: {total} for {count} pax", "Total: {total} for {count} pax", party).format(
            total=quote.subtotal, count=party
        ),
    ]
    if quote.has_discount:
        deadline = quote.early_bird_deadline
        discount = (
            _("Early bird discount (book before {date}): {total}").format(
                date=short_day_month(deadline), total=quote.total
            )
            if deadline
            else _("Early bird discount: {total}").format(total=quote.total)
        )
        lines += ["", discount]
    if indicative is not None:
        lines.append(
            _("≈ {amount} in {currency} (indicative, at today's rate)").format(
                amount=indicative, currency=currency_words(indicative.currency)
            )
        )
    lines += [
        "",
        # NOTE: English writes "spots" for any number; a language may say "1 spot".
        ngettext(
            "Interested? I can hold {count} spots for 24 hours.",
            "Interested? I can hold {count} spots for 24 hours.",
            party,
        ).format(count=party),
    ]
    return "\n".join(lines)


def hold_placed(booking: Booking, expires_at: datetime) -> str:
    departure = booking.departure
    transfer = transfer_possible()
    # NOTE: English writes "spots" for any number; a language may say "1 spot".
    head = ngettext(
        "Perfect! I've reserved {count} spots on our {date} {trek}.\n\n"
        "📋 Booking ID: {reference}\n"
        "⏰ Hold expires: {expires}\n\n"
        "To confirm, please:\n"
        "1. Pay deposit: {deposit} ({percent}%)\n"
        "   OR\n"
        "2. Pay full amount: {total}\n\n"
        "Payment link: {link}",
        "Perfect! I've reserved {count} spots on our {date} {trek}.\n\n"
        "📋 Booking ID: {reference}\n"
        "⏰ Hold expires: {expires}\n\n"
        "To confirm, please:\n"
        "1. Pay deposit: {deposit} ({percent}%)\n"
        "   OR\n"
        "2. Pay full amount: {total}\n\n"
        "Payment link: {link}",
        booking.party_size,
    ).format(
        count=booking.party_size,
        date=day_month(departure.start_date),
        trek=trek_label(departure.product),
        reference=booking.reference,
        expires=local_datetime(expires_at),
        deposit=money(booking.deposit_minor, booking.currency),
        percent=departure.product.deposit_percent,
        total=money(booking.total_minor, booking.currency),
        link=payment_link(booking.ref_key),
    )
    after = _(
        "After payment:\n"
        "✓ Instant confirmation\n"
        "✓ Welcome kit sent\n"
        "✓ Preparation guide\n"
        "✓ Pre-trek checklist"
    )
    return f"{head}\n" + (f"{transfer}\n" if transfer else "") + f"\n{after}"


def _balance_line(booking: Booking) -> str:
    return _("Balance: {balance} (due {due})").format(
        balance=money(booking.balance_minor, booking.currency),
        due=long_date(booking.balance_due_date),
    )


def booking_confirmed(booking: Booking, paid_minor: int) -> str:
    """Workflow 1 step 4. The e-mail lines say what happened: sent when the customer gave an
    address, else the offer to send it."""
    departure = booking.departure
    product = departure.product
    head = _(
        "🎉 Booking Confirmed!\n\n"
        "Booking: {reference}\n"
        "Trek: {trek}\n"
        "Dates: {dates}\n"
        "People: {people}\n\n"
        "Paid: {paid}"
    ).format(
        reference=booking.reference,
        trek=product.short_name,
        dates=date_range(departure.start_date, departure.end_date),
        people=booking.party_size,
        paid=money(paid_minor, booking.currency),
    )
    balance = _balance_line(booking) if booking.balance_minor else _("Balance: fully paid ✓")
    mail = (
        _("✓ Confirmation email sent\n✓ Pre-trek guide attached")
        if booking.contact.email
        else _("📧 Reply with your e-mail address for the confirmation and the pre-trek guide.")
    )
    return f"{head}\n{balance}\n\n{mail}\n\n" + _("Need help? Reply here anytime!")


def departure_full_options(product: Product, full: Departure, alternative: Departure | None) -> str:
    if alternative:
        return _(
            "{trek} is very popular! 🏔️\n\n"
            "{full_date}: FULLY BOOKED ❌\n"
            "{other_date}: Available ✓\n\n"
            "Options:\n"
            "1. Book {other_date} (confirm now)\n"
            "2. Join waitlist for {full_date}\n"
            "3. See other dates\n\n"
            "Reply: 1, 2, or 3"
        ).format(
            trek=product.short_name,
            full_date=day_month(full.start_date),
            other_date=day_month(alternative.start_date),
        )
    return _(
        "{trek} is very popular! 🏔️\n\n"
        "{full_date}: FULLY BOOKED ❌\n"
        "Options:\n"
        "1. Talk to our team about other options\n"
        "2. Join waitlist for {full_date}\n"
        "3. See other dates\n\n"
        "Reply: 1, 2, or 3"
    ).format(trek=product.short_name, full_date=day_month(full.start_date))


def waitlist_joined(booking: Booking, position: int) -> str:
    departure = booking.departure
    return _(
        "✓ Added to waitlist\n\n"
        "Trek: {trek}\n"
        "Date: {date}\n"
        "Position: #{position} on waitlist\n\n"
        "If a spot opens:\n"
        "✓ You'll be auto-notified\n"
        "✓ {hours}-hour window to confirm\n"
        "✓ Payment link sent instantly\n\n"
        "Alternative dates available.\n"
        'Reply "DATES" to see.'
    ).format(
        trek=departure.product.short_name,
        date=day_month(departure.start_date),
        position=position,
        hours=get_settings().waitlist_offer_hours,
    )


def spot_available(booking: Booking, *, hours: int) -> str:
    departure = booking.departure
    return _(
        "🎉 SPOT AVAILABLE!\n\n"
        "{trek} - {date}\n\n"
        "A spot just opened up!\n\n"
        "Price: {price}\n"
        "Hold expires: {hours} hours\n\n"
        "CONFIRM to book now.\n"
        "DECLINE to keep on waitlist.\n\n"
        "Confirm: {link}"
    ).format(
        trek=departure.product.short_name,
        date=day_month(departure.start_date),
        price=money(booking.total_minor, booking.currency),
        hours=hours,
        link=links.book_url(booking.ref_key),
    )


def spot_available_params(booking: Booking, *, hours: int) -> list[str]:
    departure = booking.departure
    return [
        departure.product.short_name,
        day_month(departure.start_date),
        money(booking.total_minor, booking.currency),
        str(hours),
        links.book_url(booking.ref_key),
    ]


def waitlist_confirmed(booking: Booking) -> str:
    departure = booking.departure
    return _(
        "✅ CONFIRMED!\n\n"
        "Your patience paid off! 🎉\n\n"
        "Booking: {reference}\n"
        "Trek: {trek}\n"
        "Date: {dates}\n"
        "Price: {price} (paid)\n\n"
        "Welcome kit sent!\n\n"
        "See you on {date}! 🏔️"
    ).format(
        reference=booking.reference,
        trek=departure.product.short_name,
        dates=range_without_year(departure.start_date, departure.end_date),
        price=money(booking.total_minor, booking.currency),
        date=day_month(departure.start_date),
    )


def trip_started_for_guests(trip: Trip, guide: Staff | None, booking: Booking) -> str:
    product = trip.departure.product
    parts = [_("Your {trek} has started! 🎉").format(trek=trek_label(product))]
    if guide is not None:
        parts.append(
            _("Lead Guide: {name}\nContact: {phone}").format(name=guide.name, phone=guide.phone)
        )
    parts.append(
        _("Have an amazing journey!\n\nTrack progress:\n{link}").format(
            link=links.track_url(booking.ref_key)
        )
    )
    return "\n\n".join(parts)


def feedback_request(trip: Trip, booking: Booking) -> str:
    return _(
        "🎉 Congratulations on completing {trek}!\n\n"
        "We hope you had an amazing journey!\n\n"
        "Please share:\n"
        "1. Your feedback\n"
        "2. Trip photos\n"
        "3. Review\n\n"
        "Upload: {link}\n\n"
        "Or just reply with a rating from 1 to 5 ⭐\n\n"
        "Thank you for traveling with us! 🙏"
    ).format(trek=trek_label(trip.departure.product), link=links.feedback_url(booking.ref_key))


def papers_invite(booking: Booking, link: str) -> str:
    """Right after the deposit: the travellers' papers page (backend/web/papers.py)."""
    departure = booking.departure
    people = booking.party_size
    return ngettext(
        "📋 One more step for your {trek} ({date}): the trekking permits are issued in your "
        "passport name, so we need the passport details, travel insurance (with helicopter "
        "evacuation), an emergency contact and the arrival flight.\n\n"
        "Fill them in here, on your phone, a traveller at a time (it saves as you go): {link}\n\n"
        "The link is yours alone: please don't share it. You can correct the details until "
        "our operations team has checked them.",
        "📋 One more step for your {trek} ({date}): the trekking permits are issued in each of "
        "the {count} travellers' passport name, so we need the passport details, travel "
        "insurance (with helicopter evacuation), an emergency contact and the arrival flight "
        "of everyone.\n\n"
        "Fill them in here, on your phone, a traveller at a time (it saves as you go): {link}\n\n"
        "The link is yours alone: please don't share it. You can correct the details until "
        "our operations team has checked them.",
        people,
    ).format(
        trek=trek_label(departure.product),
        date=long_date(departure.start_date),
        count=people,
        link=link,
    )


def passed_to_the_team() -> str:
    """A customer's message that reads like a guide's command ("Issue with my payment",
    "Check-in time at Lukla?"): a person answers it."""
    return _("Thanks! I've passed your message to our team; a person will reply here shortly.")


def question_for_the_team() -> str:
    return _(
        "Good question! I don't want to guess, so I've passed it to our team: "
        "someone will reply here shortly. 🙏"
    )


def help_message() -> str:
    return _(
        "I'm the booking assistant of {operator} 🏔️ I can help you:\n"
        '• enquire about a trek (e.g. "Everest Base Camp for 2 in April")\n'
        "• see dates, prices and what's included\n"
        "• hold seats, pay, check or cancel a booking\n"
        "• join a waitlist\n\n"
        'I\'ve kept your message for our team too. Reply "agent" to talk to a person.'
    ).format(operator=get_settings().operator_name)


def greeting(name: str | None) -> str:
    operator = get_settings().operator_name
    if name:
        return _(
            "Hi {name}! 👋 Welcome to {operator}.\n\n"
            "Which trek are you dreaming of? We run Everest Base Camp, Annapurna Circuit and "
            "Pokhara Sightseeing."
        ).format(name=_first_name(name), operator=operator)
    return _(
        "Hi! 👋 Welcome to {operator}.\n\n"
        "Which trek are you dreaming of? We run Everest Base Camp, Annapurna Circuit and "
        "Pokhara Sightseeing."
    ).format(operator=operator)


def goodbye() -> str:
    return _("Thanks for chatting with us! Reply here anytime. 🙏")


def you_are_welcome() -> str:
    return _("You're welcome! 😊 Anything else I can help with?")


def ask_trek(products: list[Product]) -> str:
    names = ", ".join(trek_texts(p).name for p in products)
    return _("Which trek are you interested in? We run: {treks}.").format(treks=names)


def ask_group_size() -> str:
    return _("How many people will be travelling?")


def enquiry_trek_changed(lead: Lead, old: Product | None) -> str:
    # NOTE: Stands in for the trek's name when the enquiry has none: "changed your enquiry to the trek".
    name = trek_label(lead.product) if lead.product else _("the trek")
    party = lead.party_size
    values = {
        "reference": lead.reference,
        "trek": name,
        "count": party,
        "old": trek_label(old) if old else "",
    }
    if party and old:
        changed = ngettext(
            "No problem! I've changed your enquiry (Ref: {reference}) to {trek} for {count} "
            "person instead of {old}. 🏔️",
            "No problem! I've changed your enquiry (Ref: {reference}) to {trek} for {count} "
            "people instead of {old}. 🏔️",
            party,
        )
    elif party:
        changed = ngettext(
            "No problem! I've changed your enquiry (Ref: {reference}) to {trek} for {count} "
            "person. 🏔️",
            "No problem! I've changed your enquiry (Ref: {reference}) to {trek} for {count} "
            "people. 🏔️",
            party,
        )
    elif old:
        changed = _(
            "No problem! I've changed your enquiry (Ref: {reference}) to {trek} instead of {old}. 🏔️"
        )
    else:
        changed = _("No problem! I've changed your enquiry (Ref: {reference}) to {trek}. 🏔️")
    return (
        changed.format(**values)
        + "\n\n"
        + _("Your sales expert has been told and will send the itinerary and prices for it.")
    )


def details_noted() -> str:
    return _("Thank you, noted! ✓ Your sales expert will include this in your options.")


def no_open_enquiry() -> str:
    return _("Thanks! Tell me which trek you are interested in and I'll open an enquiry for you.")


def hold_needs_quote(lead: Lead) -> str:
    if lead.assigned_staff:
        return _(
            "Great! {rep} is preparing your quote for {reference}; as soon as it's ready we can "
            "hold your spots. I've let them know you'd like to go ahead. 🙌"
        ).format(rep=_first_name(lead.assigned_staff.name), reference=lead.reference)
    return _(
        "Great! Our sales team is preparing your quote for {reference}; as soon as it's ready "
        "we can hold your spots. I've let them know you'd like to go ahead. 🙌"
    ).format(reference=lead.reference)


def hold_failed_no_seats(departure: Departure, available: int) -> str:
    date_ = day_month(departure.start_date)
    if available:
        # NOTE: English says "only 1 left" and "only 3 left" alike.
        return ngettext(
            "Sorry, the {date} departure has only {count} left. "
            'Reply DATES to see other dates, or "waitlist" to join the waitlist.',
            "Sorry, the {date} departure has only {count} left. "
            'Reply DATES to see other dates, or "waitlist" to join the waitlist.',
            available,
        ).format(date=date_, count=available)
    return _(
        "Sorry, the {date} departure has it is now full. "
        'Reply DATES to see other dates, or "waitlist" to join the waitlist.'
    ).format(date=date_)


def dates_list(product: Product, rows: list[tuple[Departure, int]]) -> str:
    if not rows:
        return _(
            "There are no upcoming departures of {trek} right now. Our team can suggest "
            "alternatives."
        ).format(trek=trek_texts(product).name)
    lines = [_("📅 Upcoming {trek} departures:").format(trek=trek_texts(product).name), ""]
    for departure, free in rows:
        dates = date_range(departure.start_date, departure.end_date)
        if free:
            # NOTE: English says "1 spots left" and "3 spots left" alike.
            line = ngettext(
                "• {dates}: {count} spots left ✓", "• {dates}: {count} spots left ✓", free
            ).format(dates=dates, count=free)
        else:
            line = _("• {dates}: FULLY BOOKED ❌").format(dates=dates)
        lines.append(line)
    lines += ["", _('Tell me the date and group size to book, e.g. "March 27 for 2".')]
    return "\n".join(lines)


def recommendations(fits: Sequence[RecommendedTrip], wish_party: int | None) -> str:
    """The trips that fit a described wish, with departures and the party's price."""
    lines = [_("Here's what fits what you told me 👇"), ""]
    for fit in fits:
        product = fit.product
        # English: "1 day", and "days" for more (never "0 days").
        days = product.days if product.days > 1 else 1
        values = {
            "trek": trek_texts(product).name,
            "count": product.days,
            "difficulty": _(product.difficulty),
            "altitude": number(product.max_altitude_m or 0),
        }
        if product.max_altitude_m:
            trip = ngettext(
                "🏔️ {trek}: {count} day, {difficulty}, up to {altitude} m",
                "🏔️ {trek}: {count} days, {difficulty}, up to {altitude} m",
                days,
            )
        else:
            trip = ngettext(
                "🏔️ {trek}: {count} day, {difficulty}",
                "🏔️ {trek}: {count} days, {difficulty}",
                days,
            )
        lines.append(trip.format(**values))
        dates = ", ".join(
            ngettext("{date} ({count} seats)", "{date} ({count} seats)", free).format(
                date=short_day_month(d.start_date), count=free
            )
            for d, free in fit.departures
        )
        lines.append(_("📅 Next: {dates}").format(dates=dates))
        price = money(product.price_per_person_minor, product.currency)
        if fit.total_minor is not None and wish_party:
            lines.append(
                _("💰 {price} per person: {total} for {count}").format(
                    price=price, total=money(fit.total_minor, product.currency), count=wish_party
                )
            )
        else:
            lines.append(_("💰 {price} per person").format(price=price))
        lines.append("")
    lines.append(_('Tell me the date and how many of you to hold seats, e.g. "December 23 for 4".'))
    return "\n".join(lines)


# A trek's difficulty as the catalogue writes it, for the copy to translate.
_DIFFICULTIES = (N_("easy"), N_("moderate"), N_("challenging"), N_("strenuous"))


def miss_phrase(miss: Miss, product: Product) -> str:
    """Why a trip does not fit, in a clause: "it is 14 days (you said 7 at most)"."""
    match miss.kind:
        case "too_long":
            return _("it is {days} days (you said {wanted} at most)").format(
                days=miss.value, wanted=miss.wanted
            )
        case "not_easy":
            return _("it is {difficulty}, not easy").format(difficulty=_(str(miss.value)))
        case "not_a_challenge":
            return _("it is {difficulty}, not a challenge").format(difficulty=_(str(miss.value)))
        case "too_high":
            altitude = number(miss.value) if isinstance(miss.value, int) else f"{miss.value:,}"
            return _("it goes up to {altitude} m").format(altitude=altitude)
        case "too_young":
            return _("the minimum age is {age}").format(age=miss.value)
        case "over_budget":
            return _("it costs {price} per person").format(
                price=money(product.price_per_person_minor, product.currency)
            )
        case "no_seats":
            seats = int(miss.wanted or 1)
            form = seats if seats > 1 else 1  # "seat" for 1 (and less), "seats" for more
            if miss.value:
                return ngettext(
                    "no departure in {month} has {count} free seat",
                    "no departure in {month} has {count} free seats",
                    form,
                ).format(month=miss.value, count=seats)
            return ngettext(
                "no departure has {count} free seat", "no departure has {count} free seats", form
            ).format(count=seats)
        case _:  # too_hard
            return _("it is {difficulty}").format(difficulty=_(str(miss.value)))


def nothing_fits(closest: Sequence[RecommendedTrip]) -> str:
    lines = [_("Nothing we run fits all of that, I'm afraid. The closest:"), ""]
    for fit in closest:
        lines.append(
            f"• {trek_texts(fit.product).name}: {'; '.join(miss_phrase(m, fit.product) for m in fit.misses)}."
        )
    lines += [
        "",
        _("Our team can also plan a private trip: reply TEAM and a person will help."),
    ]
    return "\n".join(lines)


def ask_what_kind_of_trip() -> str:
    return _(
        "Happy to suggest something! Tell me a little more: how many days you have, how "
        "challenging you'd like it (easy, moderate, challenging), when you're travelling and "
        "who's coming (any children?)."
    )


def no_dates_in(product: Product, when: str) -> str:
    return _("No {trek} departure in {when}, I'm afraid.").format(
        trek=trek_texts(product).name, when=when
    )


def price_info(product: Product, party: int | None = None) -> str:
    price = money(product.price_per_person_minor, product.currency)
    # NOTE: English writes "days" for any number; a language may say "1 day".
    lines = [
        ngettext(
            "💰 {trek}: {price} per person ({count} days).",
            "💰 {trek}: {price} per person ({count} days).",
            product.days,
        ).format(trek=trek_texts(product).name, price=price, count=product.days)
    ]
    if party and party > 1:
        total = money(product.price_per_person_minor * party, product.currency)
        lines.append(_("For your group of {count}: {total}.").format(count=party, total=total))
    if product.early_bird_percent:
        lines.append(
            _("Early bird: {percent}% off when you book {days}+ days before departure.").format(
                percent=product.early_bird_percent, days=product.early_bird_days_before
            )
        )
    lines.append(
        _("Deposit {percent}% to confirm; balance due {days} days before departure.").format(
            percent=product.deposit_percent, days=product.balance_due_days_before
        )
    )
    return "\n".join(lines)


def inclusions_info(product: Product) -> str:
    trek = trek_texts(product)
    return "\n".join(
        [
            _("{trek} includes:").format(trek=trek.name),
            *[f"✓ {item}" for item in trek.inclusions],
        ]
    )


def which_trek_for_info() -> str:
    return _(
        "Which trek would you like to know about? Everest Base Camp, Annapurna Circuit or "
        "Pokhara Sightseeing?"
    )


def payment_info(booking: Booking) -> str:
    transfer = transfer_possible()
    after = f"\n{transfer}" if transfer else ""
    if booking.balance_minor == 0:
        return _("Booking {reference} is fully paid ✓ Nothing more to pay.").format(
            reference=booking.reference
        )
    if booking.paid_minor == 0:
        return (
            _(
                "Booking {reference}:\n"
                "Deposit: {deposit} or full amount: {total}\n\n"
                "Payment link: {link}"
            ).format(
                reference=booking.reference,
                deposit=money(booking.deposit_minor, booking.currency),
                total=money(booking.total_minor, booking.currency),
                link=payment_link(booking.ref_key),
            )
            + after
        )
    return (
        _("Booking {reference}:\nPaid: {paid}").format(
            reference=booking.reference, paid=money(booking.paid_minor, booking.currency)
        )
        + "\n"
        + _balance_line(booking)
        + "\n\n"
        + _("Pay now: {link}").format(link=payment_link(booking.ref_key, "balance"))
        + after
    )


def no_booking() -> str:
    return _(
        "I couldn't find a booking on this number. If you booked with another number, send me "
        "its reference (like EBC-2501234)."
    )


_STATUS_WORDS = {
    "WAITLISTED": N_("on the waitlist"),
    "OFFERED": N_("offered a spot (reply CONFIRM to take it)"),
    "HELD": N_("held for you, waiting for payment"),
    "PAYMENT_PENDING": N_("payment received, confirming"),
    "CONFIRMED": N_("confirmed ✓"),
    "COMPLETED": N_("completed 🎉"),
    "EXPIRED": N_("expired"),
    "CANCELLED": N_("cancelled"),
}


def booking_status(booking: Booking, position: int | None = None) -> str:
    departure = booking.departure
    status = booking.status
    lines = [
        _(
            "📋 Booking {reference}\n"
            "Trek: {trek}\n"
            "Dates: {dates}\n"
            "People: {people}\n"
            "Status: {status}"
        ).format(
            reference=booking.reference,
            trek=departure.product.short_name,
            dates=date_range(departure.start_date, departure.end_date),
            people=booking.party_size,
            status=_(_STATUS_WORDS[status]) if status in _STATUS_WORDS else status,
        )
    ]
    if position is not None:
        lines.append(_("Position: #{position} on waitlist").format(position=position))
    if booking.paid_minor:
        lines.append(_("Paid: {paid}").format(paid=money(booking.paid_minor, booking.currency)))
    if booking.balance_minor and booking.status in ("CONFIRMED", "HELD", "PAYMENT_PENDING"):
        lines.append(_balance_line(booking))
    return "\n".join(lines)


def cancel_confirm_question(booking: Booking) -> str:
    departure = booking.departure
    # NOTE: English says "1 people" and "3 people" alike.
    return ngettext(
        "Do you really want to cancel booking {reference} ({trek}, {dates}, {count} people)?"
        "\n\nReply YES to cancel or NO to keep it.",
        "Do you really want to cancel booking {reference} ({trek}, {dates}, {count} people)?"
        "\n\nReply YES to cancel or NO to keep it.",
        booking.party_size,
    ).format(
        reference=booking.reference,
        trek=departure.product.short_name,
        dates=date_range(departure.start_date, departure.end_date),
        count=booking.party_size,
    )


def cancelled(booking: Booking) -> str:
    # What comes back of a paid booking follows in its own message (refund_choice_question,
    # refund_nothing_back).
    return _("Booking {reference} is cancelled. We're sorry to see you go.").format(
        reference=booking.reference
    )


def cancel_kept(booking: Booking) -> str:
    return _("No problem, booking {reference} stays as it is. 👍").format(
        reference=booking.reference
    )


# -- refunds and credits after a cancellation (backend/services/refunds.py) -------------------
_REFUND_BUTTON = N_("Refund")
_CREDIT_BUTTON = N_("Credit for later")  # WhatsApp keeps 20 characters of a button


def refund_choice_question(booking: Booking, amount_minor: int, policy_note: str | None) -> str:
    values = {
        "note": policy_note,
        "amount": money(amount_minor, booking.currency),
        "reference": booking.reference,
    }
    if policy_note:
        first = _(
            "Under our cancellation policy ({note}), {amount} of what you paid for {reference} "
            "comes back to you."
        )
    else:
        first = _(
            "Under our cancellation policy, {amount} of what you paid for {reference} comes "
            "back to you."
        )
    return (
        first.format(**values)
        + "\n\n"
        + _(
            "Would you like it refunded to how you paid, or kept as a credit for a later trip "
            "(any trek, you pay with it on the pay page)? Reply REFUND or CREDIT."
        )
    )


def refund_nothing_back(booking: Booking, policy_note: str | None) -> str:
    if policy_note:
        return _(
            "Under our cancellation policy ({note}), nothing of what you paid for {reference} "
            "comes back. If you think that's wrong, reply here and a person will look at it."
        ).format(note=policy_note, reference=booking.reference)
    return _(
        "Under our cancellation policy, nothing of what you paid for {reference} comes back. "
        "If you think that's wrong, reply here and a person will look at it."
    ).format(reference=booking.reference)


def refund_policy_note(days_before: int, line: PolicyLineView | None, currency: str) -> str:
    period = _policy_days(max(days_before, 0))
    if line is None:
        return _("cancelled {period} before departure").format(period=period)
    return _("cancelled {period} before departure: {outcome}").format(
        period=period, outcome=_policy_outcome(line, currency)
    )


def refund_policy_note_operator() -> str:
    return _("we cancelled the departure: everything you paid comes back")


def refund_choice_received(booking: Booking, choice: str, amount_minor: int) -> str:
    values = {"amount": money(amount_minor, booking.currency), "reference": booking.reference}
    if choice == "refund":
        return _(
            "Thanks, noted: a refund of {amount} for {reference}. Our team approves it shortly "
            "and we'll tell you here."
        ).format(**values)
    return _(
        "Thanks, noted: a credit for a later trip of {amount} for {reference}. Our team "
        "approves it shortly and we'll tell you here."
    ).format(**values)


# How a refund's state is named to the customer (its status, lower case, in English).
_REFUND_STATES = {
    "AWAITING_CHOICE": N_("awaiting choice"),
    "AWAITING_APPROVAL": N_("awaiting approval"),
    "PAID_OUT": N_("paid out"),
    "CREDITED": N_("credited"),
    "DECLINED": N_("declined"),
}


def refund_choice_already(booking: Booking, status: str, choice: str | None) -> str:
    if status == "AWAITING_APPROVAL" and choice:
        if choice == "refund":
            return _("You chose a refund for {reference}; our team is on it.").format(
                reference=booking.reference
            )
        return _("You chose a credit for a later trip for {reference}; our team is on it.").format(
            reference=booking.reference
        )
    state = _REFUND_STATES.get(status)
    return _("The refund for {reference} is already settled ({state}).").format(
        reference=booking.reference,
        state=_(state) if state else status.lower().replace("_", " "),
    )


def refund_paid_out(booking: Booking, amount_minor: int, currency: str, method: str) -> str:
    values = {"amount": money(amount_minor, currency), "reference": booking.reference}
    if method in ("stripe", "local"):
        return _(
            "💸 We've refunded {amount} for {reference} to the card you paid with; it shows on "
            "your statement within 5 to 10 working days."
        ).format(**values)
    if method == "credit":
        return _(
            "💸 We've refunded {amount} for {reference} back to your credit for a later trip, "
            "as you paid it."
        ).format(**values)
    return _(
        "💸 We've refunded {amount} for {reference} by bank transfer; it reaches your account "
        "within a few working days."
    ).format(**values)


def credit_issued(booking: Booking, amount_minor: int, available_minor: int, currency: str) -> str:
    return _(
        "🎟️ {amount} from {reference} is now credit for a later trip (your credit: "
        '{available}). Book any trek as usual and choose "Pay with credit" on the pay page, '
        "or tell us here and we'll apply it."
    ).format(
        amount=money(amount_minor, currency),
        reference=booking.reference,
        available=money(available_minor, currency),
    )


def refund_declined(booking: Booking, reason: str) -> str:
    return _(
        "About your refund for {reference}: our team could not approve it ({reason}). "
        "Reply here if you'd like to talk it over."
    ).format(reference=booking.reference, reason=reason)


class PolicyLineView(Protocol):
    """What the policy's copy reads of a line (`backend.services.cancellation_policy.PolicyLine`)."""

    @property
    def days_before(self) -> int: ...

    @property
    def refund_percent(self) -> int: ...

    @property
    def fee_minor(self) -> int: ...


def _policy_days(days: int) -> str:
    # NOTE: A period before departure, never 1 day (that is "24 hours").
    return _("24 hours") if days == 1 else _("{count} days").format(count=days)


def _policy_outcome(line: PolicyLineView, currency: str) -> str:
    if line.refund_percent == 0:
        return _("no refund")
    fee = money(line.fee_minor, currency)
    if line.refund_percent == 100:
        if line.fee_minor:
            return _("everything you've paid comes back, minus a {fee} admin fee").format(fee=fee)
        return _("everything you've paid comes back")
    if line.fee_minor:
        return _(
            "{percent}% of the trip's price comes back (never more than you've paid), minus a "
            "{fee} admin fee"
        ).format(percent=line.refund_percent, fee=fee)
    return _("{percent}% of the trip's price comes back (never more than you've paid)").format(
        percent=line.refund_percent
    )


def cancellation_policy_answer(
    lines: Sequence[PolicyLineView],
    currency: str,
    *,
    product: Product | None = None,
    notes: str | None = None,
) -> str:
    """The FAQ's answer on cancelling, written from the policy's lines (most days first);
    `product` when the lines are that product's own; `notes`: what else the operator says."""
    title = (
        _("Cancellation policy for the {trek}:").format(trek=trek_texts(product).name)
        if product is not None
        else _("Our cancellation policy:")
    )
    out = [title]
    previous: int | None = None
    for line in lines:
        outcome = _policy_outcome(line, currency)
        if previous is None and line.days_before == 0:
            when = _("Whenever you cancel")
        elif previous is None:
            when = _("{period} or more before departure").format(
                period=_policy_days(line.days_before)
            )
            when = when[0].upper() + when[1:]
        elif line.days_before == 0:
            when = _("Less than {period} before").format(period=_policy_days(previous))
        else:
            when = _("{first} to {last} days before").format(
                first=line.days_before, last=previous - 1
            )
        out.append(f"• {when}: {outcome}")
        previous = line.days_before
    if notes and notes.strip():
        out += ["", notes.strip()]
    return "\n".join(out)


def refundable_today(
    booking: Booking, *, amount_minor: int, paid_minor: int, days_before: int
) -> str:
    """The chat's "how much would I get back?" for the customer's paid booking."""
    values = {
        "reference": booking.reference,
        "count": days_before,
        "paid": money(paid_minor, booking.currency),
        "amount": money(amount_minor, booking.currency),
    }
    if amount_minor <= 0:
        if days_before > 0:
            text = ngettext(
                "For your booking {reference}: if you cancelled today ({count} day before "
                "departure), nothing of the {paid} you've paid would come back under the "
                "policy. You can still ask us about moving to another date.",
                "For your booking {reference}: if you cancelled today ({count} days before "
                "departure), nothing of the {paid} you've paid would come back under the "
                "policy. You can still ask us about moving to another date.",
                days_before,
            )
        else:
            text = _(
                "For your booking {reference}: if you cancelled today, nothing of the {paid} "
                "you've paid would come back under the policy. You can still ask us about "
                "moving to another date."
            )
    elif days_before > 0:
        text = ngettext(
            "For your booking {reference}: if you cancelled today ({count} day before "
            "departure), {amount} of the {paid} you've paid would come back.",
            "For your booking {reference}: if you cancelled today ({count} days before "
            "departure), {amount} of the {paid} you've paid would come back.",
            days_before,
        )
    else:
        text = _(
            "For your booking {reference}: if you cancelled today, {amount} of the {paid} "
            "you've paid would come back."
        )
    return text.format(**values)


def handoff_started(rep: Staff | None) -> str:
    if rep:
        return _("Sure! {name} will reply to you here shortly. 🙋").format(
            name=_first_name(rep.name)
        )
    return _("Sure! A member of our team will reply to you here shortly. 🙋")


def ask_email() -> str:
    return _(
        "📧 What e-mail address should we send your confirmation and pre-trek guide to? "
        "(Reply SKIP to keep everything on WhatsApp.)"
    )


def email_saved(address: str, confirmations: list[str]) -> str:
    if confirmations:
        return _(
            "✓ Thanks! Your confirmation for {references} and the pre-trek guide are on their "
            "way to {address}."
        ).format(references=", ".join(confirmations), address=address)
    return _("✓ Thanks! We'll e-mail your confirmation and pre-trek guide to {address}.").format(
        address=address
    )


def email_not_understood() -> str:
    return _(
        "That doesn't look like an e-mail address. Could you type it again (like name@example.com)?"
    )


def email_skipped() -> str:
    return _("No problem, everything stays here on WhatsApp. 👍")


def rating_thanks(rating: int, name: str | None) -> str:
    stars = "⭐" * rating
    head = (
        _("Thank you {name}! {stars}").format(name=_first_name(name), stars=stars)
        if name
        else _("Thank you! {stars}").format(stars=stars)
    )
    follow = (
        _("We're so glad you enjoyed it! 🙏")
        if rating >= 4
        else _("Thank you for telling us. Our team will look into it and may reach out. 🙏")
    )
    return f"{head}\n\n{follow}"


def feedback_thanks(name: str | None) -> str:
    if name:
        return _("Thank you {name} for your feedback! 🙏 We've passed it to the team.").format(
            name=_first_name(name)
        )
    return _("Thank you for your feedback! 🙏 We've passed it to the team.")


def ok_nothing_pending() -> str:
    return _("👍 Got it. How can I help? You can ask about dates, prices or your booking.")


def no_problem() -> str:
    return _("No problem! Let me know if there's anything else I can help with.")


def ask_party_size() -> str:
    return _('How many people will be travelling? (a number, or "just me")')


def waitlist_offer_declined(booking: Booking) -> str:
    return _(
        "No problem, you stay on the waitlist for {trek}. We'll message you if another spot opens."
    ).format(trek=booking.departure.product.short_name)


def waitlist_offer_accepted(booking: Booking, expires_at: datetime) -> str:
    return _(
        "🎉 Spot reserved! Booking {reference}\n\n"
        "Please pay within {minutes} minutes (until {time}).\n\n"
        "Price: {price}\n"
        "Payment link: {link}"
    ).format(
        reference=booking.reference,
        minutes=get_settings().waitlist_payment_minutes,
        time=local_time(expires_at),
        price=money(booking.total_minor, booking.currency),
        link=payment_link(booking.ref_key),
    )


# Titles: reply buttons ≤ 20 characters, list rows ≤ 24 (longer ones are shortened on queueing).
# Each is read when used (`__getattr__` below), in the language of that moment: `texts.CONFIRM`.
_TITLES = {
    "ACCEPT": N_("Accept"),
    "DECLINE": N_("Decline"),
    "CONFIRM": N_("Confirm"),
    "HOLD_MY_SEATS": N_("Hold my seats"),
    "NOT_NOW": N_("Not now"),
    # NOTE: The button that opens a list of choices (at most 20 characters).
    "LIST_BUTTON": N_("Choose"),
    "REFUND_BUTTON": _REFUND_BUTTON,
    "CREDIT_BUTTON": _CREDIT_BUTTON,
}

_RATING_TITLES = {
    5: N_("⭐⭐⭐⭐⭐ Excellent"),
    4: N_("⭐⭐⭐⭐ Very good"),
    3: N_("⭐⭐⭐ Good"),
    2: N_("⭐⭐ Fair"),
    1: N_("⭐ Poor"),
}


def full_option_titles(full: Departure, alternative: Departure | None) -> list[tuple[str, str]]:
    """The three options of a full departure as list rows (title, description)."""
    return [
        (
            _("Book {date}").format(date=short_day_month(alternative.start_date))
            if alternative
            else _("Talk to our team"),
            _("Confirm the available date now")
            if alternative
            else _("Other options with a person"),
        ),
        (
            _("Waitlist {date}").format(date=short_day_month(full.start_date)),
            _("Be told if a spot opens"),
        ),
        (_("See other dates"), _("Every departure with free seats")),
    ]


def choice_expired() -> str:
    return _(
        "That button belongs to an older message and no longer applies. "
        'Reply "help" to see what I can do, or ask me anything.'
    )


# A booking's state in a sentence (its status, lower case, in English).
_BOOKING_STATES = {
    "WAITLISTED": N_("waitlisted"),
    "OFFERED": N_("offered"),
    "HELD": N_("held"),
    # NOTE: A booking's state; English shows the status as it is stored.
    "PAYMENT_PENDING": N_("payment_pending"),
    "CONFIRMED": N_("confirmed"),
    "COMPLETED": N_("completed"),
    "EXPIRED": N_("expired"),
    "CANCELLED": N_("cancelled"),
}


def waitlist_offer_gone(booking: Booking) -> str:
    status = str(booking.status)
    state = _BOOKING_STATES.get(status)
    return _(
        "The spot offered on {trek} is no longer open (booking {reference} is {state}). "
        'Reply "status" to see where you stand.'
    ).format(
        trek=booking.departure.product.short_name,
        reference=booking.reference,
        state=_(state) if state else status.lower(),
    )


def seats_already_held(booking: Booking) -> str:
    return _("Your seats are already held: booking {reference}. Payment link: {link}").format(
        reference=booking.reference, link=payment_link(booking.ref_key)
    )


def hold_not_now() -> str:
    return _("No problem. The quote stays with us: reply HOLD whenever you are ready. 🙂")


def already_rated(rating: int) -> str:
    return _("Thanks, we already have your rating ({stars}). 🙏").format(stars="⭐" * rating)


# What a customer reads after sending media, by its kind (`format.MEDIA_WORDS` names them).
_MEDIA_RECEIVED = {
    "location": N_("Thanks, we've received your location 📍. Our team can see it. ✓"),
    "image": N_("Thanks, we've received your photo 📷. Our team can see it. ✓"),
    "document": N_("Thanks, we've received your document 📄. Our team can see it. ✓"),
    "video": N_("Thanks, we've received your video 🎬. Our team can see it. ✓"),
    "audio": N_("Thanks, we've received your voice message 🎤. Our team can see it. ✓"),
    "sticker": N_("Thanks, we've received your sticker. Our team can see it. ✓"),
}


def media_received(kind: str) -> str:
    return _(
        _MEDIA_RECEIVED.get(kind, N_("Thanks, we've received your message. Our team can see it. ✓"))
    )


def unsupported_message() -> str:
    return _("Sorry, I can only read text messages. Please type your question and I'll help. 🙂")


def balance_received(booking: Booking, amount_minor: int) -> str:
    head = _("✅ Payment received: {amount} for {reference}.").format(
        amount=money(amount_minor, booking.currency), reference=booking.reference
    )
    rest = (
        _("Your booking is fully paid. See you on the trail! 🏔️")
        if booking.balance_minor == 0
        else _balance_line(booking)
    )
    return f"{head}\n{rest}"


def cash_receipt_customer(
    booking: Booking,
    receipt: str,
    amount_minor: int,
    currency: str,
    received_by: Staff,
    day: date,
) -> str:
    return _(
        "🧾 Cash receipt {receipt}\n\n"
        "Received: {amount} in cash for {reference}\n"
        "Date: {date}\n"
        "Received by: {name}\n\n"
        "Please keep this number: it is your receipt."
    ).format(
        receipt=receipt,
        amount=money(amount_minor, currency),
        reference=booking.reference,
        date=long_date(day),
        name=received_by.name,
    )


def payment_needs_staff_customer(booking: Booking) -> str:
    return _(
        "We received your payment for {reference}. Our team needs to check it and will "
        "contact you shortly. Nothing else to do for now. 🙏"
    ).format(reference=booking.reference)


# -- transfer and card-link receipts (backend/services/payment_proofs.py) ------------------------
def transfer_possible() -> str:
    """One line under a payment link when transfers are on: where the details are, what to do."""
    if "bank_transfer" not in get_settings().enabled_payment_methods:
        return ""
    return _(
        "🏦 Bank transfer also possible: details on the payment page; send us the receipt here."
    )


def proof_received(booking: Booking) -> str:
    if booking.status == "HELD":
        text = _(
            "Thanks! We've received your payment receipt for {reference} and are checking it "
            "now. You'll hear from us here once it's verified; your seats stay held meanwhile. 🙏"
        )
    else:
        text = _(
            "Thanks! We've received your payment receipt for {reference} and are checking it "
            "now. You'll hear from us here once it's verified. 🙏"
        )
    return text.format(reference=booking.reference)


def proof_already_received(booking: Booking) -> str:
    return _(
        "We already have this receipt for {reference} ✓ (already received). "
        "No need to send it again: we'll message you once it's checked."
    ).format(reference=booking.reference)


def proof_rejected(booking: Booking, reason: str, hold_until: datetime | None) -> str:
    text = _(
        "We couldn't verify the payment receipt for {reference}: {reason}\n\n"
        "Please send a clear photo or PDF of the bank's receipt showing the amount, the date and "
        "the reference {reference}, or pay another way: {link}"
    ).format(reference=booking.reference, reason=reason, link=payment_link(booking.ref_key))
    if hold_until:
        text += " " + _("Your seats stay held until {time}.").format(
            time=local_datetime(hold_until)
        )
    return text


def guests_travel_update(trip: Trip, text: str) -> str:
    return _(
        "Travel Update 📍\n\n"
        "Trip: {trek}\n"
        "{update}\n\n"
        "Your safety and comfort are our priority.\n\n"
        "Any concerns? Reply here."
    ).format(trek=trip.departure.product.short_name, update=text.strip())


def affected_guest_update(text: str) -> str:
    return _("Hello,\n\n{update}").format(update=text.strip())


def guests_all_set() -> str:
    return _(
        "✅ All Set!\n\n"
        "Back on track! 🚐\n\n"
        "Continuing to our destinations.\n\n"
        "Thank you for your patience!"
    )


def _days_word(days: int) -> str:
    return ngettext("{count} day", "{count} days", days).format(count=days)


def hold_expired(booking: Booking) -> str:
    departure = booking.departure
    return ngettext(
        "⏰ Your hold on {reference} has expired.\n\n"
        "The {count} spot on {trek} ({date}) have been released.\n\n"
        "Still keen? Reply BOOK and we'll check what's free, or DATES for other departures.",
        "⏰ Your hold on {reference} has expired.\n\n"
        "The {count} spots on {trek} ({date}) have been released.\n\n"
        "Still keen? Reply BOOK and we'll check what's free, or DATES for other departures.",
        booking.party_size,
    ).format(
        reference=booking.reference,
        count=booking.party_size,
        trek=departure.product.short_name,
        date=day_month(departure.start_date),
    )


def hold_expired_params(booking: Booking) -> list[str]:
    departure = booking.departure
    return [
        booking.reference,
        f"{departure.product.short_name} ({day_month(departure.start_date)})",
    ]


def offer_expired(booking: Booking) -> str:
    departure = booking.departure
    return _(
        "⏰ The spot we offered on {trek} ({date}) was not confirmed in time, so it has passed "
        "to the next person on the waitlist.\n\n"
        "Reply DATES to see other departures."
    ).format(trek=departure.product.short_name, date=day_month(departure.start_date))


# The pre-departure message's checklist; the pre-trek guide (PDF) prints the same list. Read
# when used (`__getattr__` below): `texts.PRE_DEPARTURE_CHECKLIST`.
_PRE_DEPARTURE_CHECKLIST = (
    N_("Valid passport (check!)"),
    N_("Travel insurance"),
    N_("Nepal visa ($50 on arrival)"),
    N_("Vaccinations recommended"),
)


def pre_departure(booking: Booking, today: date) -> str:
    departure = booking.departure
    days = (departure.start_date - today).days
    lines = [
        ngettext(
            "Hi! Your {trek} starts in {count} day! 🏔️",
            "Hi! Your {trek} starts in {count} days! 🏔️",
            days,
        ).format(trek=trek_label(departure.product), count=days),
        "",
        _("Pre-departure checklist:"),
        *(f"✓ {_(item)}" for item in _PRE_DEPARTURE_CHECKLIST),
        "",
    ]
    if booking.balance_minor:
        due_in = (booking.balance_due_date - today).days
        if due_in > 0:
            when = _days_word(due_in)
        elif due_in == 0:
            # NOTE: When the balance is due, in brackets after the date: "Due: Mar 1 (today)".
            when = _("today")
        else:
            # NOTE: The balance's due date has passed: "Due: Mar 1 (overdue)".
            when = _("overdue")
        lines += [
            _("Balance payment: {balance}").format(
                balance=money(booking.balance_minor, booking.currency)
            ),
            _("Due: {date} ({when})").format(
                date=short_day_month(booking.balance_due_date), when=when
            ),
            "",
            _("Pay now: {link}").format(link=payment_link(booking.ref_key, "balance")),
            "",
        ]
    else:
        lines += [_("Balance: fully paid ✓"), ""]
    lines.append(_("Questions? Reply here!"))
    return "\n".join(lines)


def pre_departure_params(booking: Booking, today: date) -> list[str]:
    """The pre-departure template's parameters; without the balance once it is paid."""
    departure = booking.departure
    params = [trek_label(departure.product), _days_word((departure.start_date - today).days)]
    if not booking.balance_minor:
        return params
    return [
        *params,
        money(booking.balance_minor, booking.currency),
        long_date(booking.balance_due_date),
        payment_link(booking.ref_key, "balance"),
    ]


def balance_reminder(booking: Booking, today: date) -> str:
    days = (booking.balance_due_date - today).days
    values = {
        "reference": booking.reference,
        "count": days,
        "trek": booking.departure.product.short_name,
        "balance": money(booking.balance_minor, booking.currency),
        "date": long_date(booking.balance_due_date),
        "link": payment_link(booking.ref_key, "balance"),
    }
    if days == 1:
        text = _(
            "💳 Reminder: the balance for {reference} is due tomorrow.\n\n"
            "Trek: {trek}\n"
            "Balance: {balance}\n"
            "Due: {date}\n\n"
            "Pay now: {link}\n\n"
            "Already paid? Reply here and we'll check."
        )
    elif days <= 0:
        text = _(
            "💳 Reminder: the balance for {reference} is due today.\n\n"
            "Trek: {trek}\n"
            "Balance: {balance}\n"
            "Due: {date}\n\n"
            "Pay now: {link}\n\n"
            "Already paid? Reply here and we'll check."
        )
    else:
        text = _(
            "💳 Reminder: the balance for {reference} is due in {count} days.\n\n"
            "Trek: {trek}\n"
            "Balance: {balance}\n"
            "Due: {date}\n\n"
            "Pay now: {link}\n\n"
            "Already paid? Reply here and we'll check."
        )
    return text.format(**values)


def balance_reminder_params(booking: Booking) -> list[str]:
    return [
        booking.reference,
        money(booking.balance_minor, booking.currency),
        long_date(booking.balance_due_date),
        payment_link(booking.ref_key, "balance"),
    ]


def consent_stopped() -> str:
    return _(
        "You're unsubscribed: no more offers, surveys or reminders that can wait. "
        "We'll still message you about your bookings, payments due and your trip's safety. "
        "Reply START to hear from us again."
    )


def consent_started() -> str:
    return _("Welcome back! You'll get our trip updates and offers again. Reply STOP any time.")


def departure_news_question() -> str:
    return _(
        "Would you like to hear about our future departures and offers here on WhatsApp? "
        "You can reply STOP any time."
    )


def departure_news_yes() -> str:
    return _("Wonderful! We'll tell you about future departures. Reply STOP any time.")


def departure_news_no() -> str:
    return _("No problem: we won't send you offers. We'll still message you about your bookings.")


def __getattr__(name: str) -> Any:
    """`ACCEPT`, `CONFIRM`, ... `RATING_TITLES` and `PRE_DEPARTURE_CHECKLIST` in the language
    of the moment, each time they are read (PEP 562)."""
    if name in _TITLES:
        return _(_TITLES[name])
    if name == "RATING_TITLES":
        return {stars: _(title) for stars, title in _RATING_TITLES.items()}
    if name == "PRE_DEPARTURE_CHECKLIST":
        return tuple(_(item) for item in _PRE_DEPARTURE_CHECKLIST)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# A template's parameters (`*_params`) are written in the language spoken when they are built:
# the services build them in English and the reader's language (`i18n.in_each_language`), and
# the sender fills the template Meta approved for the reader with the ones in its language.
