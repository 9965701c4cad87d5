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


def test_times_in_lists_read_as_flask_babel_writes_them_in_both_languages(app) -> None:
    """The page filter for dates and times gives Flask-Babel's text, for each named format."""
    from datetime import UTC, datetime, timedelta

    from flask_babel import format_datetime

    moments = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 9000, 7)
    ]
    moments.append(datetime(2026, 12, 31, 23, 59, 59))  # naive: read as UTC
    # One template renders every moment (compiling a template per moment made this test
    # spend most of its 20-40 s in Jinja's compiler); each line is one moment's text.
    every_moment = "{% for moment in moments %}{{ moment|datetimeformat(name) }}\n{% endfor %}"
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        for locale in ("es", "en"):
            with force_locale(locale):
                for name in ("short", "medium", "long", "full"):
                    shown = render_template_string(every_moment, moments=moments, name=name)
                    assert shown.split("\n")[:-1] == [
                        format_datetime(moment, name) for moment in moments
                    ]
        # the reader's time zone (Madrid): 23:30 UTC on 31 December is already 2027 there
        late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
        assert render_template_string("{{ m|datetimeformat('short') }}", m=late) == "1/1/27, 0:30"
        assert render_template_string("{{ m|datetimeformat('d MMM') }}", m=late) == "1 ene"
        assert render_template_string("{{ none|datetimeformat('short') }}") == ""
