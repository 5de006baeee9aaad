"""The customer pages' words that are not written in a template: the labels and sentences of
the domain and the services (a traveller's fields, why a photo or a receipt was refused),
shown on a page in the reader's language.

The domain and the services write English, for every channel (the admin API, the chat, the
logs); a page translates at the edge. Each sentence is a message id of the `pages` catalogue,
listed here with `N_` so that scripts/translations.sh extracts it; one that carries a value
("at most 120 characters") is written with its `%(name)s` and read back from the English by
its shape. A sentence not listed here stays English (never empty); the tests in
tests/backend/web/test_pages_languages.py check that what the domain says today is listed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime

from backend import i18n, texts
from backend.domain import languages
from backend.domain import travellers as rules


def N_(message: str) -> str:
    """Marks a message id for extraction; translated with `_` where it is shown."""
    return message


_ = i18n.pages_gettext

# backend/domain/travellers.py: each field's label and hint, the photos, as the page shows
# them (a photo's label is its words with a capital; the button names it too).
FIELD_WORDS = (
    N_("Full name as in the passport"),
    N_("Nationality"),
    N_("Passport number"),
    N_("Passport expiry date"),
    N_("Date of birth"),
    N_("Sex as in the passport"),
    N_("M, F or X"),
    N_("Travel insurer"),
    N_("Insurance policy number"),
    N_("Insurer's 24-hour assistance phone"),
    N_("with the country code, e.g. +44 20 7946 0000"),
    N_("The policy covers helicopter evacuation"),
    N_("Covered up to (metres above sea level)"),
    N_("Emergency contact's name"),
    N_("Their relationship to the traveller"),
    N_("Emergency contact's phone"),
    N_("Diet (vegetarian, allergies to food ...)"),
    N_("Medical notes: allergies, conditions, medication"),
    N_("Arrival flight number"),
    N_("Arrival date in Kathmandu"),
)
PHOTO_WORDS = {
    # What is still missing ("Still needed: a portrait photo").
    "passport_photo": N_("a photo of the passport's photo page"),
    "portrait_photo": N_("a portrait photo"),
}
PHOTO_LABELS = {
    "passport_photo": N_("A photo of the passport's photo page"),
    "portrait_photo": N_("A portrait photo"),
}
PHOTO_BUTTONS = {
    "passport_photo": N_("Send a photo of the passport's photo page"),
    "portrait_photo": N_("Send a portrait photo"),
}
FLAG_SENTENCES = {
    "no_helicopter_cover": N_(
        "Your insurance does not cover helicopter evacuation: our operations team will be in touch."
    ),
    "cover_below_altitude": N_(
        "Your insurance cover ends below the trek's highest point: our operations team will be "
        "in touch."
    ),
    "passport_expiring": N_(
        "Your passport expires less than six months after the trip: our operations team will "
        "be in touch."
    ),
    "changed_after_verification": N_(
        "Details changed after our team checked them: they will look at them again."
    ),
}

# The pay page's own sentence with a value (backend/web/pages.py).
NOT_AN_AMOUNT = N_("“%(amount)s” is not an amount: write it like 2052.00, or leave it empty.")

# What the domain, the services and the pages' handlers say went wrong, word for word.
SENTENCES = (
    NOT_AN_AMOUNT,
    # A traveller's field (backend/domain/travellers.py, `check`).
    N_("at most %(limit)s characters"),
    N_("letters only, as printed in the passport (e.g. Emma Louise Clarke)"),
    N_("the full name, as printed in the passport"),
    N_("5 to 20 letters and digits, as printed in the passport"),
    N_("M, F or X, as printed in the passport"),
    N_("a phone number with its country code, e.g. +44 20 7946 0000"),
    N_("an airline code and a number, e.g. QR 652"),
    N_("the country's two-letter code (e.g. GB, US, DE, IN) or its name"),
    N_("yes or no"),
    N_("a height in metres, e.g. 6000"),
    N_("a height in metres between 0 and 9,000"),
    N_("a date written as YYYY-MM-DD"),
    N_("a date of birth in the past"),
    N_("a date of birth less than %(years)s years ago"),
    N_("this passport has expired: the details of the new one, please"),
    N_(
        "Nepal asks for a passport valid six months after the trip ends, so until %(date)s at "
        "least: the details of a newer passport, please"
    ),
    N_("the trip starts %(date)s: arrive by then"),
    N_("more than %(days)s days before the trip starts (%(date)s): please check the date"),
    # A traveller's photo (backend/services/travellers.py, `check_photo`).
    N_("The file is empty: please choose a photo."),
    N_("The photo is too big (%(size)s MB); at most %(limit)s MB."),
    N_("That image is far too large: please send an ordinary photo."),
    N_("That file is not a photo: please send a JPEG or PNG photo."),
    N_("That file is not a photo: please send a JPEG, PNG or WebP photo."),
    # A receipt (backend/services/payment_proofs.py).
    N_("The file is empty. Please choose the photo or PDF of your receipt."),
    N_(
        "The file is too big (%(size)s); at most %(limit)s. A photo or a PDF of the receipt is "
        "enough."
    ),
    N_(
        "That file is not a photo (JPEG, PNG, WebP, HEIC) or a PDF. Please upload the receipt "
        "as one of those."
    ),
    N_(
        "Nothing is owed on booking %(reference)s now, so there is no receipt to send. Reply on "
        "WhatsApp if something looks wrong."
    ),
    # A rating (backend/services/feedback.py).
    N_("Give a rating from 1 to 5, or a comment"),
    N_("A rating is from 1 to 5"),
    N_("Feedback opens when the trip has ended"),
)


@functools.cache
def _shapes() -> list[tuple[re.Pattern[str], str]]:
    """Each sentence with a value, as a pattern that reads the value back from the English."""
    shapes = []
    for message in SENTENCES:
        if "%(" not in message:
            continue
        pattern = ""
        for literal, name in re.findall(r"((?:[^%]|%%)*)(?:%\((\w+)\)s|$)", message):
            pattern += re.escape(literal.replace("%%", "%"))
            if name:
                pattern += rf"(?P<{name}>.+?)"
        shapes.append((re.compile(pattern), message))
    return shapes


def _value(name: str, value: str) -> str:
    """A value read from an English sentence, as the reader writes it (a date the domain wrote
    `15 Mar 2026` becomes `15. März 2026`)."""
    if name == "date":
        try:
            return texts.long_date(datetime.strptime(value, "%d %b %Y").date())
        except ValueError:
            return value
    return value


def sentence(text: str) -> str:
    """An English sentence of the domain, a service or a page, in the language spoken now."""
    if i18n.current() == languages.ENGLISH or not text:
        return text
    translated = _(text)
    if translated != text:
        return translated
    for shape, message in _shapes():
        found = shape.fullmatch(text)
        if found is not None:
            values = {name: _value(name, value) for name, value in found.groupdict().items()}
            return _(message) % values
    return text


def missing_words(names: Sequence[str]) -> list[str]:
    """What a customer reads for each missing field or photo ("passport number", "a portrait
    photo"); English as the domain writes it."""
    if i18n.current() == languages.ENGLISH:
        return rules.missing_words(list(names))
    return [
        _(PHOTO_WORDS.get(name, rules.PHOTOS[name]))
        if name in rules.PHOTOS
        else _(rules.BY_NAME[name].label)
        for name in names
    ]


def flag_sentence(flag: str) -> str:
    """What a traveller's flag means for the customer."""
    known = FLAG_SENTENCES.get(flag)
    if known is not None:
        return _(known)
    words = rules.FLAG_WORDS.get(flag, flag.replace("_", " "))
    return _("Your %(words)s: our operations team will be in touch.") % {"words": words}
