"""A trek's own texts per language on the console's Translations page, and a text with a count
written form by form, over real HTTP (PostgreSQL): a rep reads them and cannot change them, an
admin writes a trek's German texts (a refused one keeps what was typed, next to the field),
resets them, and writes both German forms of a text with a count; customers read them."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from backend import i18n
from backend.db import transaction
from backend.models import StaffTranslation, TrekText
from backend.services import catalog, translations
from backend.texts.treks import trek_texts

SARAH, ANIL = "+9779801000001", "+9779801000009"
GROUP, GROUPS = "👥 Group: {count} person", "👥 Group: {count} people"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _german(db: str, code: str):
    with transaction(db) as s:
        return trek_texts(catalog.get_product(s, code), "de")


def test_an_admin_writes_a_trek_s_german_texts_and_resets_them(console, pg_db_url):
    sarah = console.sign_in(SARAH)
    listed = sarah.get("/console/translations", params={"language": "de"})
    assert 'href="/console/translations/treks?language=de"' in listed.text
    read = sarah.get("/console/translations/treks", params={"language": "de", "product": "ebc"})
    assert read.status_code == 200 and "<textarea" not in read.text
    assert "Phakding to Namche Bazaar" in read.text
    anil = console.sign_in(ANIL)
    page = anil.get("/console/translations/treks", params={"language": "de", "product": "PKR"})
    assert page.status_code == 200
    assert 'name="title_0"' in page.text and 'name="title_1"' not in page.text  # one day line
    form = {
        "csrf": _csrf(page),
        "name": "Pokhara an einem Tag",
        "title_0": "Pokhara an einem Tag",
        "detail_0": "Sonnenaufgang in Sarangkot,\r\nBootsfahrt auf dem Phewa-See.",
        "inclusions": "Klimatisiertes Fahrzeug\r\n\r\nLizenzierter Guide\r\n",
        "packing_list": "",
        "do": "save",
    }
    assert sarah.post("/console/translations/treks/PKR/de", data=form).status_code == 403
    too_long = {**form, "inclusions": "x" * 301}
    refused = anil.post("/console/translations/treks/PKR/de", data=too_long)
    assert refused.status_code == 422
    assert "a line of what is included is longer than 300 characters" in refused.text
    assert 'aria-invalid="true" aria-describedby="e-inclusions"' in refused.text
    assert 'value="Pokhara an einem Tag"' in refused.text  # what was typed is kept
    with transaction(pg_db_url) as s:
        assert s.scalars(select(TrekText)).all() == []

    saved = anil.post("/console/translations/treks/PKR/de", data=form)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/translations/treks?language=de&product=PKR"
    shown = anil.get(saved.headers["location"])
    assert "Saved: customers reading German read these texts of PKR now" in shown.text
    assert "Klimatisiertes Fahrzeug\nLizenzierter Guide</textarea>" in shown.text
    german = _german(pg_db_url, "PKR")
    assert german.name == "Pokhara an einem Tag"
    assert german.itinerary[0].detail == (
        "Sonnenaufgang in Sarangkot,\nBootsfahrt auf dem Phewa-See."
    )
    assert german.inclusions == ("Klimatisiertes Fahrzeug", "Lizenzierter Guide")

    back = anil.post(
        "/console/translations/treks/PKR/de", data={"csrf": _csrf(shown), "do": "reset"}
    )
    assert back.status_code == 303
    assert _german(pg_db_url, "PKR").name == "Pokhara Sightseeing Tour"
    timeline = sarah.get("/console/timeline", params={"object_type": "PRODUCT"})
    assert (
        "Anil Admin wrote PKR&#39;s German texts (name, itinerary, inclusions)" in (timeline.text)
        or "Anil Admin wrote PKR's German texts (name, itinerary, inclusions)" in timeline.text
    )
    assert "back to the English" in timeline.text
    assert anil.get("/console/translations/treks?language=de&product=NOPE").status_code == 200


def test_an_admin_writes_each_german_form_of_a_text_with_a_count(console, pg_db_url):
    anil = console.sign_in(ANIL)
    page = anil.get("/console/translations", params={"language": "de", "q": "Group: {count}"})
    path = f"/console/translations/de/{translations.key_of(GROUP)}"
    assert 'name="form_0"' in page.text and 'name="form_1"' in page.text
    assert "For a count of 1" in page.text and "For a count of 0, 2, 3, 4, …" in page.text
    broken = {"csrf": _csrf(page), "form_0": "👥 {count} Gast", "form_1": "👥 Gäste", "do": "save"}
    refused = anil.post(path, data=broken)
    assert refused.status_code == 422
    assert "the form for 0, 2, 3, 4, …: missing {count}" in refused.text
    assert ">👥 Gäste</textarea>" in refused.text
    fixed = {**broken, "form_1": "👥 {count} Gäste"}
    assert anil.post(path, data=fixed).status_code == 303
    with transaction(pg_db_url) as s:
        [row] = s.scalars(select(StaffTranslation)).all()
        assert row.forms == ["👥 {count} Gast", "👥 {count} Gäste"]
        assert translations.refresh(s, force=True)
    try:
        with i18n.speaking("de"):
            assert i18n.ngettext(GROUP, GROUPS, 3).format(count=3) == "👥 3 Gäste"
            assert i18n.ngettext(GROUP, GROUPS, 1).format(count=1) == "👥 1 Gast"
        assert anil.post(path, data={**fixed, "do": "reset"}).status_code == 303
        with transaction(pg_db_url) as s:
            assert s.scalars(select(StaffTranslation)).all() == []
            translations.refresh(s, force=True)
        with i18n.speaking("de"):
            assert i18n.ngettext(GROUP, GROUPS, 3).format(count=3) == "👥 Gruppe: 3 Personen"
    finally:
        i18n.install_overrides({})
