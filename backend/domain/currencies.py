"""Currencies: the one a customer most likely thinks in (from their phone's country code), what
each is called in a sentence, and how many minor units it has. Pure data, no I/O.

The customer's currency only decides the *indicative* price a quote adds (see
`backend.services.rates.indicative`); prices, payments and the books stay in the product's
currency."""

from __future__ import annotations

import phonenumbers

from backend.domain.whatsapp_ids import is_bsuid

# Calling code (without "+") → currency. Longer codes first where one is a prefix of another
# is not needed: `currency_for_phone` tries the longest prefix first.
_BY_CALLING_CODE: dict[str, str] = {
    "1": "USD",  # the United States (Canada's numbers share +1: indicative only)
    "44": "GBP",
    "61": "AUD",
    "64": "NZD",
    "91": "INR",
    "81": "JPY",
    "86": "CNY",
    "82": "KRW",
    "65": "SGD",
    "852": "HKD",
    "41": "CHF",
    "46": "SEK",
    "47": "NOK",
    "45": "DKK",
    "48": "PLN",
    "420": "CZK",
    "27": "ZAR",
    "971": "AED",
    "972": "ILS",
    "977": "NPR",
    "880": "BDT",
    "94": "LKR",
    "66": "THB",
    "60": "MYR",
    "55": "BRL",
    "52": "MXN",
    # The euro area.
    "30": "EUR",  # Greece
    "31": "EUR",  # the Netherlands
    "32": "EUR",  # Belgium
    "33": "EUR",  # France
    "34": "EUR",  # Spain
    "39": "EUR",  # Italy
    "43": "EUR",  # Austria
    "49": "EUR",  # Germany
    "351": "EUR",  # Portugal
    "352": "EUR",  # Luxembourg
    "353": "EUR",  # Ireland
    "356": "EUR",  # Malta
    "357": "EUR",  # Cyprus
    "358": "EUR",  # Finland
    "370": "EUR",  # Lithuania
    "371": "EUR",  # Latvia
    "372": "EUR",  # Estonia
    "385": "EUR",  # Croatia
    "386": "EUR",  # Slovenia
    "421": "EUR",  # Slovakia
}

# How a currency is named after an amount ("≈ €6,310 in euros").
_NAMES: dict[str, str] = {
    "USD": "US dollars",
    "EUR": "euros",
    "GBP": "pounds",
    "AUD": "Australian dollars",
    "NZD": "New Zealand dollars",
    "INR": "rupees",
    "NPR": "Nepali rupees",
    "JPY": "yen",
    "CNY": "yuan",
    "KRW": "won",
    "SGD": "Singapore dollars",
    "HKD": "Hong Kong dollars",
    "CHF": "Swiss francs",
    "SEK": "Swedish kronor",
    "NOK": "Norwegian kroner",
    "DKK": "Danish kroner",
    "PLN": "złoty",
    "CZK": "Czech koruna",
    "ZAR": "rand",
    "AED": "dirhams",
    "ILS": "shekels",
    "BDT": "taka",
    "LKR": "Sri Lankan rupees",
    "THB": "baht",
    "MYR": "ringgit",
    "BRL": "reais",
    "MXN": "Mexican pesos",
}

# Minor units per currency where they are not 2 (as `backend.domain.money.Money` counts them).


def currency_for_phone(phone: str | None) -> str | None:
    """The currency of the country an E.164 number (`+4915112345678`) belongs to, or a
    business-scoped user ID's country (`AU.1349…`); None when the country is not one we
    know."""
    digits = (phone or "").strip().lstrip("+")
    if is_bsuid(digits):
        digits = str(phonenumbers.country_code_for_region(digits[:2]))
    if not digits.isdigit():
        return None
    for length in (3, 2, 1):
        found = _BY_CALLING_CODE.get(digits[:length])
        if found:
            return found
    return None


def currency_name(code: str) -> str:
    """How a currency is named in a sentence ("euros"); its code when we have no name."""
    return _NAMES.get(code.upper(), code.upper())
