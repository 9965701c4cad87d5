"""The firm's metrics (admin): month by month, as charts and a table, and as CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints import charts
from app.services import metrics

bp = Blueprint("metrics", __name__)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


@bp.get("/admin/metrics")
@login_required
def index() -> str:
    months = metrics.monthly(current_user, today=date.today())
    labels = [m.start.strftime("%m/%y") for m in months]
    figures = [
        (
            _("Solicitudes completadas a tiempo"),
            charts.bar_chart(
                list(zip(labels, [_percent(m.on_time_share) for m in months], strict=True)),
                title=_("Solicitudes completadas a tiempo"),
                description=_("Porcentaje de las solicitudes que vencían cada mes"),
                peak=100,
                unit="%",
            ),
        ),
        (
            _("Días hasta completar una solicitud (mediana)"),
            charts.bar_chart(
                list(zip(labels, [m.median_days_to_complete for m in months], strict=True)),
                title=_("Días hasta completar una solicitud (mediana)"),
                description=_("De las solicitudes completadas cada mes"),
            ),
        ),
        (
            _("Clientes que usaron el portal"),
            charts.bar_chart(
                list(zip(labels, [_percent(m.active_share) for m in months], strict=True)),
                title=_("Clientes que usaron el portal"),
                description=_("Porcentaje de los clientes con alguna actividad en el mes"),
                peak=100,
                unit="%",
            ),
        ),
        (
            _("Firmas completadas"),
            charts.bar_chart(
                list(zip(labels, [float(m.signatures_completed) for m in months], strict=True)),
                title=_("Firmas completadas"),
                description=_("Solicitudes de firma completadas cada mes"),
            ),
        ),
        (
            _("Días hasta firmar (mediana)"),
            charts.bar_chart(
                list(zip(labels, [m.median_days_to_sign for m in months], strict=True)),
                title=_("Días hasta firmar (mediana)"),
                description=_("De las firmas completadas cada mes"),
            ),
        ),
    ]
    return render_template("admin/metrics.html", months=months, figures=figures)


@bp.get("/admin/metrics.csv")
@login_required
def export() -> Response:
    data = metrics.as_csv(metrics.monthly(current_user, today=date.today()))
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="metricas.csv"'
    return response
