"""Error pages (Swedish, no personal data) and problem details for the API's paths."""

from __future__ import annotations

from flask import (
    render_template,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from coordination.api.problems import is_api_request, problem_response

ERROR_TITLES = {
    400: _l("Felaktig begäran"),
    403: _l("Åtkomst nekad"),
    404: _l("Sidan finns inte"),
    405: _l("Metoden är inte tillåten"),
    413: _l("För stor begäran"),
    429: _l("För många försök"),
    500: _l("Något gick fel"),
}


ERROR_TEXTS = {
    400: _l("Begäran kunde inte behandlas. Gå tillbaka och försök igen."),
    403: _l("Du har inte behörighet till den här sidan."),
    404: _l("Sidan du söker finns inte eller har flyttats."),
    405: _l("Sidan kan inte användas på det sättet."),
    413: _l("Det du skickade är för stort."),
    429: _l("Du har gjort för många försök på kort tid. Vänta en stund och försök igen."),
    500: _l("Ett oväntat fel inträffade. Felet är loggat; försök igen om en stund."),
}


def render_error(error: Exception) -> ResponseReturnValue:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    if is_api_request():
        headers = {}
        if isinstance(error, HTTPException) and code in (405, 429):
            headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
        return problem_response(code, headers=headers)
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=ERROR_TITLES.get(code, ERROR_TITLES[500]),
            text=ERROR_TEXTS.get(code, ERROR_TEXTS[500]),
        ),
        code,
    )


def _render_csrf_error(error: CSRFError) -> tuple[str, int]:
    text = _l(
        "Formuläret hade gått ut eller saknade säkerhetstoken. Ladda om sidan och försök igen."
    )
    return render_template("errors/error.html", code=400, title=ERROR_TITLES[400], text=text), 400
