"""Templates translate with the request's language, and switch at once when it is switched."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, refresh

STATE = "{{ _('Recibido') }} · {{ _('Vista previa de «%(title)s», versión %(n)s', title='Plano', n=2) }}"


def test_a_page_speaks_the_readers_language_and_an_email_inside_it_the_recipients(app) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert render_template_string(STATE) == "Recibido · Vista previa de «Plano», versión 2"
        with force_locale("en"):  # an e-mail to an English-speaking person, mid-request
            assert render_template_string(STATE) == "Received · Preview of “Plano”, version 2"
        assert render_template_string(STATE) == "Recibido · Vista previa de «Plano», versión 2"


def test_a_language_changed_during_the_request_is_used_from_then_on(app) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert render_template_string("{{ _('Recibido') }}") == "Recibido"
        from flask import session

        session["lang"] = "en"
        refresh()
        assert render_template_string("{{ _('Recibido') }}") == "Received"


def test_outside_a_request_templates_speak_spanish(app) -> None:
    with app.app_context():
        assert render_template_string("{{ _('Recibido') }}") == "Recibido"
