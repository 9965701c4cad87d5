"""Every page in English shows no Spanish UI string: what the catalogue translates is translated.

The catalogue test proves each string has an English translation; this one proves the pages
use them: every page of the URL map, rendered for an English-speaking admin, member of staff,
client and visitor, is searched for the Spanish source strings (visible text and the labels
screen readers read: aria-label, alt, title, placeholder).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from portal_pages import page_urls, seed_pages
from portal_testing import PASSWORD

pytestmark = pytest.mark.usefixtures("signing_ready")

ENGLISH_PO = Path(__file__).resolve().parents[2] / "app/translations/en/LC_MESSAGES/messages.po"
ATTRIBUTES = re.compile(r'\b(?:aria-label|alt|title|placeholder)="([^"]*)"')


def _spanish_strings() -> list[str]:
    """Source strings long enough not to be mistaken for data, and unlike their English."""
    with ENGLISH_PO.open("rb") as handle:
        catalogue = read_po(handle)
    return [
        str(message.id)
        for message in catalogue
        if isinstance(message.id, str)
        and message.string
        and message.string != message.id
        and "%" not in message.id
        and len(message.id) >= 12
        and " " in message.id
    ]


def _readable(page: str) -> str:
    """What a person sees or hears: text without tags, scripts and styles, plus labels."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    labels = " ".join(ATTRIBUTES.findall(page))
    text = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(f"{text} {labels}"))


def _spanish_left(page: str, strings: list[str]) -> list[str]:
    readable = _readable(page)
    return [s for s in strings if s in readable]


def test_english_pages_show_no_spanish_ui_strings(app, web_app):
    from app.extensions import db
    from app.services import accounts

    seed = seed_pages(app)
    strings = _spanish_strings()
    assert len(strings) > 200  # the check has teeth
    pages = dict(page_urls(app, seed))
    problems: list[str] = []
    rendered: set[str] = set()
    for who in ("admin", "staff", "client"):
        user = accounts.find_user_by_email(seed[who])
        accounts.set_locale(user, "en")
        db.session.commit()
        client = web_app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        response = client.post(
            "/login", data={"csrf_token": token, "email": seed[who], "password": PASSWORD}
        )
        assert response.status_code == 302
        for endpoint, path in sorted(pages.items()):
            response = client.get(path)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            rendered.add(endpoint)
            for left in _spanish_left(response.get_data(as_text=True), strings):
                problems.append(f"{who} {endpoint}: «{left}»")
        missing = client.get("/documents/0123456789abcdef01234567")
        assert missing.status_code == 404
        problems += [
            f"{who} 404: «{s}»" for s in _spanish_left(missing.get_data(as_text=True), strings)
        ]

    visitor = web_app.test_client()
    for endpoint in ("auth.login", "auth.forgot", "auth.reset", "auth.invitation"):
        response = visitor.get(pages[endpoint], headers={"Accept-Language": "en"})
        assert response.status_code == 200, endpoint
        rendered.add(endpoint)
        for left in _spanish_left(response.get_data(as_text=True), strings):
            problems.append(f"visitor {endpoint}: «{left}»")

    assert len(rendered) >= len(pages) - 2, sorted(set(pages) - rendered)
    assert not problems, "Spanish left on English pages:\n" + "\n".join(sorted(set(problems)))
