"""The baseline: a bare Flask view doing one indexed select and rendering a template of about
the same size as the measured pages. Served by gunicorn next to the app, in the same run.

    gunicorn -w 2 'baseline:create_baseline()'   (from bench/, SAMVERKAN_DATABASE_URL set)
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from sqlalchemy import create_engine, text

TEMPLATE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Baslinje</title></head>
<body><main><h1>Åtgärder</h1>
<table><thead><tr><th>Nr</th><th>Barn</th><th>Klart senast</th><th>Status</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.child_id }}</td>
<td>{{ row.due_on }}</td><td>{{ row.status }}</td></tr>
{% endfor %}</tbody></table>
{% for _ in range(filler) %}<p class="filler">{{ sentence }}</p>
{% endfor %}</main></body></html>"""

SENTENCE = "Den här raden fyller ut sidan till samma storlek som de sidor som mäts."

# Open or in-progress actions of one agency, soonest due first: the index
# ix_agreed_actions_agency_status_due serves it.
QUERY = text(
    "SELECT id, child_id, due_on, status FROM agreed_actions "
    "WHERE responsible_agency_id = :agency AND status IN ('open', 'in_progress') "
    "ORDER BY due_on LIMIT 25"
)


def create_baseline() -> Flask:
    app = Flask(__name__)
    url = os.environ["SAMVERKAN_DATABASE_URL"]
    engine = create_engine(url, pool_size=5)
    per_filler = len(SENTENCE.encode()) + len('<p class="filler"></p>\n')
    # Compiled once, as Flask's render_template caches the app's own templates.
    template = app.jinja_env.from_string(TEMPLATE)

    @app.get("/baseline/<int:agency_id>")
    def baseline(agency_id: int) -> Any:
        with engine.connect() as connection:
            rows = connection.execute(QUERY, {"agency": agency_id}).all()
        target = request.args.get("bytes", default=0, type=int)
        filler = max(0, (target - 600 - 90 * len(rows)) // per_filler)
        return template.render(rows=rows, filler=filler, sentence=SENTENCE)

    return app
