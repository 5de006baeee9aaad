"""The placeholders of a customer text, and whether a translation keeps them. Pure, no I/O.

The English copy is the message id (`backend/texts/`); the code fills it with `str.format`
(`{name}`) and, in places, `%` (`%(name)s`). A translation, the catalogue's or staff's own
wording (the console's Translations page), must name exactly the same placeholders: one it
drops leaves a customer without the trek's name, one it adds (or a stray brace) breaks the
message when it is filled. The catalogues' test (tests/backend/test_i18n.py) and
`backend.services.translations.save` both ask this module; the latter also asks
`markup_faults` (a web page's text is shown as markup).
"""

from __future__ import annotations

import re
import string

# `%(name)s`, `%(amount).2f`, `%(n)d`: a named %-style field with its conversion.
_PERCENT_FIELD = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def brace_fields(text: str) -> set[str]:
    """The fields of a `str.format` template ("" for a positional `{}`, an attribute or index
    look-up as written). Raises ValueError on a brace without its pair ("{name", "}")."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def percent_fields(text: str) -> set[str]:
    """The names of `%(name)s`-style fields."""
    return set(_PERCENT_FIELD.findall(text))


def placeholders(text: str) -> set[str]:
    """Every placeholder as it is written: `{name}` and `%(name)s` (by name). Raises
    ValueError on an unpaired brace."""
    return {"{" + name + "}" for name in brace_fields(text)} | {
        f"%({name})s" for name in percent_fields(text)
    }


def percent_formatted(text: str) -> bool:
    """Whether a text is filled with `%` (it has a `%(name)s` field, or a `%%`)."""
    return bool(percent_fields(text)) or "%%" in text


def stray_percent(text: str) -> bool:
    """A `%` that is neither a named field nor `%%`: `%` formatting would refuse it."""
    return "%" in _PERCENT_FIELD.sub("", text).replace("%%", "")


def placeholder_faults(
    source: str, translation: str, *, filled_with_percent: bool | None = None
) -> list[str]:
    """What is wrong with `translation`'s placeholders against its English `source`, in words
    staff can act on (empty: it keeps exactly the same ones, in any order, any number of
    times). `filled_with_percent`: the text goes through `%` formatting (the web pages'
    `{% trans %}` blocks always do), so a percent sign is written `%%`; by default, when the
    English has a `%` field or a `%%`."""
    percent = percent_formatted(source) if filled_with_percent is None else filled_with_percent
    try:
        wanted = placeholders(source)
    except ValueError:  # braces that are not placeholders (a %-style text): compare by %
        wanted = {f"%({name})s" for name in percent_fields(source)}
        given_braces: set[str] = set()
    else:
        try:
            given_braces = {"{" + name + "}" for name in brace_fields(translation)}
        except ValueError:
            return [
                "a { or } without its pair: write the placeholders exactly as the English does"
                + (f" ({', '.join(sorted(wanted))})" if wanted else ", and no other braces")
            ]
    given = given_braces | {f"%({name})s" for name in percent_fields(translation)}
    faults = []
    missing, extra = sorted(wanted - given), sorted(given - wanted)
    if missing:
        faults.append(f"missing {', '.join(missing)}")
    if extra:
        faults.append(f"not in the English: {', '.join(extra)}")
    if percent and stray_percent(translation):
        faults.append("a percent sign is written %% in this text")
    return faults


_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def markup_faults(source: str, translation: str) -> list[str]:
    """A web page's or an e-mail's text may hold markup (`<strong>`): a translation keeps
    exactly the English's tags, and adds none (what it holds is shown as it is written)."""
    wanted, given = set(_TAG.findall(source)), set(_TAG.findall(translation))
    faults = []
    if wanted - given:
        faults.append(f"missing the markup {' '.join(sorted(wanted - given))}")
    if given - wanted:
        faults.append(f"markup not in the English: {' '.join(sorted(given - wanted))}")
    return faults
