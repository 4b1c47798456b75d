"""The planner's pages: server-rendered Jinja2 templates (autoescaped: every data string is
text, never markup), charts drawn in the browser by Plotly from JSON embedded in the page
(`<script type="application/json">`, escaped by `tojson`), light JavaScript in
static/app.js. Pages read plans from the workspace and start work through the JSON API, as
any client would; plotly.min.js is served from the installed plotly package (no network)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from solver.analysis.parametric import PARAMETERS
from solver.io.writers import to_jsonable
from solver.money import money, quantity
from solver.present.report import read_output
from solver.web import tasks
from solver.web.workspace import NotFound

HERE = Path(__file__).resolve().parent
TABLES_SHOWN = ("sales", "production", "purchases", "inventory", "capacity", "budget", "cash", "pnl", "limits")


def _number(value, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if abs(v) < 1e-6:  # solver noise reads as zero
        return "0"
    return f"{v:,.{digits}f}" if abs(v) >= 1 or v == 0 else f"{v:,.4g}"


def _percent(value) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else f"{v:.1%}"


def _cell(value) -> str:
    """A table cell as text: numbers grouped, blanks blank."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value, 0 if float(value).is_integer() or abs(value) >= 100 else 2)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters.update(money=lambda v, cur="CNY": money(v, cur) if v is not None else "—", number=_number,
                         percent=_percent, quantity=quantity, cell=_cell)
    return t


def _frame(df: pd.DataFrame) -> dict:
    """A table for the template and the charts: columns and JSON-able rows."""
    return {"columns": [str(c) for c in df.columns], "rows": to_jsonable(df.to_dict("records"))}


def add_pages(app, server) -> None:
    ws = server.ws
    tpl = templates()

    def page(request: Request, name: str, **context) -> HTMLResponse:
        return tpl.TemplateResponse(request, name, {"page": name.removesuffix(".html"), **context})

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js():
        import plotly

        return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                            media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        allowed = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in allowed:
            raise NotFound(f"no file {name!r}")
        return FileResponse(HERE / "static" / name, media_type=allowed[name])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        return page(request, "index.html", instances=ws.instances(), plans=server.recent_plans())

    @app.get("/plans/{pid}", response_class=HTMLResponse, include_in_schema=False)
    def plan_page(request: Request, pid: str):
        plan = server.plan_view(pid)
        data = {"plan": to_jsonable(plan)}
        tables = {}
        out = ws.plan_dir(pid) / tasks.OUT_FOLDER
        if out.is_dir():
            output = read_output(out)
            tables = {n: output.tables[n] for n in TABLES_SHOWN if n in output.tables}
            data.update(periods=output.periods, currency=output.currency,
                        charts={n: _frame(tables[n])["rows"] for n in ("capacity", "budget", "cash", "inventory", "sales")
                                if n in tables})
        entities = _entities(tables)
        return page(request, "plan.html", plan=plan, data=data, tables={n: _frame(df) for n, df in tables.items()},
                    entities=entities, parameters=PARAMETERS, currency=plan.get("currency", "CNY"),
                    plans=[p for p in server.recent_plans() if p["id"] != pid][:50])

    @app.get("/plans/{pid}/rush", response_class=HTMLResponse, include_in_schema=False)
    def rush_page(request: Request, pid: str):
        plan = server.plan_view(pid)
        out = ws.plan_dir(pid) / tasks.OUT_FOLDER
        tables = read_output(out).tables if out.is_dir() else {}
        return page(request, "rush.html", plan=plan, entities=_entities(tables), currency=plan.get("currency", "CNY"))

    @app.get("/plans/{pid}/sweep", response_class=HTMLResponse, include_in_schema=False)
    def sweep_page(request: Request, pid: str, parameter: str = ""):
        plan = server.plan_view(pid)
        return page(request, "sweep.html", plan=plan, parameters=PARAMETERS, parameter=parameter,
                    currency=plan.get("currency", "CNY"))

    @app.get("/plans/{pid}/scenarios", response_class=HTMLResponse, include_in_schema=False)
    def scenarios_page(request: Request, pid: str):
        from solver.io.loading import load_instance

        plan = server.plan_view(pid)
        inst = load_instance(ws.instance_path(plan["version"]), scenario=plan["options"].get("scenario", "base"))
        own = list(inst.scenarios)
        return page(request, "scenarios.html", plan=plan, own=own, suggested=_suggested_scenarios(own, inst.scenario),
                    periods=list(inst.periods), currency=plan.get("currency", "CNY"))

    @app.get("/plans/{pid}/limits", response_class=HTMLResponse, include_in_schema=False)
    def limits_page(request: Request, pid: str):
        plan = server.plan_view(pid)
        f = ws.plan_dir(pid) / tasks.OUT_FOLDER / "limits.csv"
        limits = read_output(f.parent).tables.get("limits", pd.DataFrame()) if f.is_file() else pd.DataFrame()
        return page(request, "limits.html", plan=plan, limits=to_jsonable(limits.to_dict("records")),
                    currency=plan.get("currency", "CNY"))

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request, a: str, b: str):
        pa, pb = server.plan_view(a), server.plan_view(b)
        diff = ws.compare(a, b)
        return page(request, "compare.html", a=pa, b=pb, diff={k: _frame(v) for k, v in diff.items()},
                    data={"cash": _frame(diff["cash"])["rows"], "budget": _frame(diff["budget"])["rows"]},
                    currency=pb.get("currency", "CNY"))


def _suggested_scenarios(own: list[str], reference: str) -> str:
    """What the scenarios form starts with: the instance's own demand scenarios when it has
    several, else its one scenario between demand 15 % lower and 15 % higher (made by scaling)."""
    if len(own) > 1:
        return ", ".join(own)
    return f"low=0.85, {reference}, high=1.15"


def _entities(tables: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Names a planner picks from in the forms: products, channels, periods, lines, resources, items."""
    def col(table: str, column: str) -> list[str]:
        df = tables.get(table)
        return list(dict.fromkeys(df[column].astype(str))) if df is not None and column in df else []

    return {"products": col("sales", "product"), "channels": col("sales", "channel"), "periods": col("cash", "period"),
            "lines": col("budget", "line"), "resources": col("capacity", "resource"), "items": col("inventory", "item")}
