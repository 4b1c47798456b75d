"""The HTTP API of `prodbudget serve` (solver/web), through FastAPI's TestClient: real solves
in worker processes on tiny instances; every figure compared with the library's own answer."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from solver.analysis.parametric import Parameter, apply_parameter
from solver.analysis.rush import RushOrder, evaluate_order
from solver.analysis.scenarios import commit_cost, commit_plan, compare_scenarios
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.writers import to_jsonable
from solver.web.app import create_app
from tests.web_helpers import make_root, tree_state, wait_plan

pytestmark = pytest.mark.solver
OPTIONS = {"time_limit": 60}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory.mktemp("root"))


@pytest.fixture(scope="module")
def client(root, tmp_path_factory):
    app = create_app(root, tmp_path_factory.mktemp("workspace"), workers=2, max_queued=16)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def base_plan(client) -> dict:
    r = client.post("/api/plans", json={"instance": "tiny/rush_basic", "options": OPTIONS})
    assert r.status_code == 202, r.text
    return wait_plan(client, r.json()["id"])


def test_health_instances_and_openapi(client) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    names = [i["name"] for i in client.get("/api/instances").json()]
    assert "tiny/rush_basic" in names and "tiny/infeasible_budget" in names
    assert not any(n.startswith(".") or "workspace" in n for n in names)
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/instances", "/api/plans", "/api/plans/{pid}", "/api/plans/{pid}/rush",
                 "/api/plans/{pid}/tables/{table}", "/api/plans/{pid}/workbook", "/api/plans/{pid}/limits",
                 "/api/plans/{pid}/sweep", "/api/plans/{pid}/diagnosis", "/api/plans/{pid}/scenarios",
                 "/api/compare"):
        assert path in paths, path


def test_plan_is_the_library_plan(client, root, base_plan) -> None:
    """The plan's status and profit are those of `solve` on the same files; its progress
    carried the incumbent and bound the solve reported."""
    expected = solve(load_instance(root / "tiny" / "rush_basic"), SolveOptions(time_limit=60))
    assert base_plan["status"] == str(expected.status) == "optimal"
    assert base_plan["kpis"]["objective"] == pytest.approx(expected.objective, rel=1e-9)
    solving = [h for h in base_plan["history"] if h["phase"] == "solving"]
    assert solving and solving[-1]["incumbent"] == pytest.approx(expected.objective, rel=1e-6)
    assert solving[-1]["bound"] >= solving[-1]["incumbent"] - 1e-6
    listed = client.get("/api/plans").json()
    assert base_plan["id"] in [p["id"] for p in listed]


def test_large_plan_route_reports_its_best_plan_and_bound(tmp_path) -> None:
    """A generated plan just above the size where `auto` takes the large-plan route (5,169 rows:
    LP dive, fix-and-optimize, the whole MIP in a background process for the bound), planned
    through the API in 10 s: its progress carries the best plan, the bound and the gap as they
    move, under the route's phases, not only "building the model" (what the plan page charts);
    the last figures are the plan's."""
    from solver.devtools.generator import generate_to, ladder
    from solver.engine.options import LARGE_ROWS

    root = tmp_path / "root"
    generate_to(ladder("small", products=45, materials=70), root / "large")
    with TestClient(create_app(root, tmp_path / "ws", workers=1)) as c:
        r = c.post("/api/plans", json={"instance": "large", "options": {"time_limit": 10}})
        assert r.status_code == 202, r.text
        plan = wait_plan(c, r.json()["id"])
    assert plan["status"] in ("optimal", "feasible") and plan["kpis"]["strategy"] == "relax-and-fix"
    assert plan["kpis"]["rows"] > LARGE_ROWS
    searching = [h for h in plan["history"] if h.get("incumbent") is not None and h.get("bound") is not None]
    assert "LP dive" in {h["phase"] for h in searching}, [h["phase"] for h in plan["history"]]
    for h in searching:  # a maximisation: the best plan never above the bound
        assert h["bound"] >= h["incumbent"] - 1e-6 * abs(h["incumbent"])
        assert h["gap"] == pytest.approx(abs(h["bound"] - h["incumbent"]) / abs(h["incumbent"]), abs=1e-9)
    last = searching[-1]
    assert last["phase"] == "solved" and last["incumbent"] == pytest.approx(plan["kpis"]["objective"], rel=1e-9)
    assert [h["at"] for h in plan["history"]] == sorted(h["at"] for h in plan["history"])


def test_tables_as_json_and_csv_and_the_workbook(client, base_plan) -> None:
    pid = base_plan["id"]
    names = client.get(f"/api/plans/{pid}/tables").json()
    assert {"production", "sales", "budget", "cash", "limits"} <= set(names)
    rows = client.get(f"/api/plans/{pid}/tables/sales").json()
    csv = client.get(f"/api/plans/{pid}/tables/sales", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.text))
    assert len(frame) == len(rows) and frame["revenue"].sum() == pytest.approx(sum(r["revenue"] for r in rows))
    profit = sum(r["profit"] for r in client.get(f"/api/plans/{pid}/tables/pnl").json())
    assert profit == pytest.approx(base_plan["kpis"]["objective"])
    assert client.get(f"/api/plans/{pid}/tables/nonsense").status_code == 404
    wb = client.get(f"/api/plans/{pid}/workbook")
    assert wb.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(wb.content), read_only=True)
    assert {"production", "sales", "cash"} <= {s.lower() for s in book.sheetnames} | set(book.sheetnames)


def test_a_changed_version_is_a_new_folder_and_the_input_is_untouched(client, root, base_plan) -> None:
    """Credit line +10 % and demand x1.2 of one period: a new version folder holding exactly
    those numbers, solved to the profit of the library's changed instance; ROOT unchanged."""
    before = tree_state(root)
    changes = {"demand:widget@W2": 1.2, "credit_limit": 5000}
    r = client.post("/api/plans", json={"plan": base_plan["id"], "changes": changes, "options": OPTIONS})
    assert r.status_code == 202, r.text
    view = wait_plan(client, r.json()["id"])
    assert view["version"] != base_plan["version"] and view["changes"] == changes
    inst = load_instance(root / "tiny" / "rush_basic")
    for text, value in changes.items():
        inst = apply_parameter(inst, Parameter.parse(text), value)
    assert view["kpis"]["objective"] == pytest.approx(solve(inst, SolveOptions(time_limit=60)).objective, rel=1e-9)
    ws_inst = client.app.state.server.ws.instance_path(view["version"])
    written = load_instance(ws_inst)
    assert written.cash.credit_limit == 5000
    dem = written.tables["demand"].set_index(["channel", "period"])["quantity"]
    assert dem[("retail", "W2")] == pytest.approx(72) and dem[("retail", "W1")] == pytest.approx(60)
    assert tree_state(root) == before
    # the same changes again: the same version, kept once
    again = client.post("/api/plans", json={"plan": base_plan["id"], "changes": changes, "options": OPTIONS}).json()
    assert again["version"] == view["version"]
    wait_plan(client, again["id"])


def test_relative_budget_change_and_bad_changes(client, root) -> None:
    r = client.post("/api/plans", json={"instance": "tiny/budget_period_ceiling",
                                        "changes": {"budget:production@1": "+10%"}, "options": OPTIONS})
    assert r.status_code == 202, r.text
    view = wait_plan(client, r.json()["id"])
    inst = load_instance(root / "tiny" / "budget_period_ceiling")
    expected = solve(apply_parameter(inst, Parameter.parse("budget:production@1"), 44.0), SolveOptions(time_limit=60))
    assert view["kpis"]["objective"] == pytest.approx(expected.objective, rel=1e-9)
    bad = client.post("/api/plans", json={"instance": "tiny/rush_basic",
                                          "changes": {"capacity:NOPE": 3, "budget:production@W9": "+5%"}})
    assert bad.status_code == 422
    columns = {p["column"] for p in bad.json()["problems"]}
    assert columns == {"capacity:NOPE", "budget:production@W9"}
    assert client.post("/api/plans", json={"instance": "tiny/rush_basic", "options": {"time_limit": -1}}).status_code == 422
    assert client.post("/api/plans", json={"instance": "tiny/rush_basic", "options": {"tme_limit": 1}}).status_code == 422


def test_rush_answer_is_the_insert_document(client, root, base_plan) -> None:
    """POST /rush answers what `evaluate_order` (prodbudget insert --json) answers for the same
    baseline folder and order."""
    order = {"product": "widget", "quantity": 30, "due": "W3", "channel": "retail", "mode": "replan"}
    r = client.post(f"/api/plans/{base_plan['id']}/rush", json=order)
    assert r.status_code == 200, r.text
    got = r.json()
    server = client.app.state.server
    inst = load_instance(server.ws.instance_path(base_plan["version"]))
    baseline = load_baseline(server.ws.plan_dir(base_plan["id"]) / "out", inst)
    want = evaluate_order(inst, baseline, RushOrder("widget", 30, "W3", None, "retail"), mode="replan",
                          options=SolveOptions(time_limit=60)).to_json()
    assert set(got) == set(want)
    for key in ("decision", "feasible", "earliest_period", "ctp_quantity", "profit_delta", "break_even_price"):
        w = want[key]
        assert got[key] == (pytest.approx(w, rel=1e-6) if isinstance(w, float) and math.isfinite(w) else w), key
    bad = client.post(f"/api/plans/{base_plan['id']}/rush", json={**order, "product": "nope"})
    assert bad.status_code == 422 and "nope" in bad.text


def test_limits_sweep_and_compare(client, root, base_plan) -> None:
    """Limits measured by re-solving; the sweep's middle point (+0 %) re-solves to the plan's
    profit; compare's profit difference is the difference of the two plans' profits."""
    pid = base_plan["id"]
    lim = client.post(f"/api/plans/{pid}/limits", json={"measure": 2})
    assert lim.status_code == 200, lim.text
    assert lim.json()["objective"] == pytest.approx(base_plan["kpis"]["objective"])
    sw = client.post(f"/api/plans/{pid}/sweep", json={"parameter": "demand", "start": "-10%", "stop": "+10%", "steps": 3})
    assert sw.status_code == 200, sw.text
    points = sw.json()["points"]
    assert [p["value"] for p in points] == pytest.approx([0.9, 1.0, 1.1])
    assert points[1]["profit"] == pytest.approx(base_plan["kpis"]["objective"], rel=1e-6)
    other = wait_plan(client, client.post("/api/plans", json={"plan": pid, "changes": {"demand": 0.9},
                                                              "options": OPTIONS}).json()["id"])
    cmp = client.get("/api/compare", params={"a": pid, "b": other["id"]}).json()
    profit = next(r for r in cmp["kpis"] if r["kpi"] == "objective")
    assert profit["difference"] == pytest.approx(other["kpis"]["objective"] - base_plan["kpis"]["objective"])
    assert profit["difference"] == pytest.approx(points[0]["profit"] - points[1]["profit"], rel=1e-6)
    assert cmp["sales"], "less demand changes what is sold"


def test_infeasible_plan_is_explained_and_scenarios_compared(client) -> None:
    r = client.post("/api/plans", json={"instance": "tiny/infeasible_budget", "options": OPTIONS})
    view = wait_plan(client, r.json()["id"])
    assert view["status"] == "infeasible"
    assert view["diagnosis"]["relaxations"], view["diagnosis"]
    assert client.get(f"/api/plans/{view['id']}/workbook").status_code == 404
    d = client.post(f"/api/plans/{view['id']}/diagnosis", json={})
    assert d.status_code == 200 and d.json()["relaxations"] == view["diagnosis"]["relaxations"]
    plan = wait_plan(client, client.post("/api/plans", json={"instance": "tiny/scenarios_demand",
                                                             "options": OPTIONS}).json()["id"])
    sc = client.post(f"/api/plans/{plan['id']}/scenarios", json={"robust": True, "commit": 1})
    assert sc.status_code == 200, sc.text
    rows = {r["scenario"]: r for r in sc.json()["rows"]}
    assert set(rows) == {"low", "base", "high"}
    assert rows["base"]["profit"] == pytest.approx(plan["kpis"]["objective"], rel=1e-6)


def test_scenarios_made_by_scaling_with_the_robust_plan(client, root, base_plan) -> None:
    """淡季 and 旺季 made from the plan's demand (× 0.8, × 1.1) beside base, and the plan of
    period 1 shared by all three. Every figure is a re-solve: each scenario's own profit a
    solve of the scaled instance; the robust plan's profit in each scenario a solve with the
    robust commit plan's decisions fixed; the value of the stochastic solution its expected
    profit over that of base's own plan committed the same way."""
    r = client.post(f"/api/plans/{base_plan['id']}/scenarios",
                    json={"scenarios": ["淡季=0.8", "base", "旺季=1.1"], "robust": True, "commit": 1, "time_limit": 60})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["scenarios"] == ["淡季", "base", "旺季"] and a["scaled"] == {"淡季": 0.8, "旺季": 1.1}
    rows = {row["scenario"]: row for row in a["rows"]}
    inst = load_instance(root / "tiny" / "rush_basic")
    instances = {s: apply_parameter(inst, Parameter("demand"), f) for s, f in (("淡季", 0.8), ("base", 1.0), ("旺季", 1.1))}
    instances = {s: replace(i, scenario=s) for s, i in instances.items()}
    options = SolveOptions(time_limit=60)
    for s, i in instances.items():
        assert rows[s]["profit"] == pytest.approx(solve(i, options).objective, rel=1e-4), s
    weights = dict.fromkeys(instances, 1 / 3)
    assert a["weights"] == pytest.approx(weights)
    assert a["wait_and_see"] == pytest.approx(sum(weights[s] * rows[s]["profit"] for s in instances))

    lib = compare_scenarios(instances, weights, options, robust_commit=1)
    robust_part = lib.robust["淡季"]
    assert a["commit_plan"] == to_jsonable(commit_plan(robust_part, 1).to_dict("records"))
    kept = commit_cost(instances, weights, 1, robust_part)  # the robust commitments fixed, each scenario re-solved
    for s in instances:
        assert rows[s]["robust_profit"] == pytest.approx(kept.plans[s].objective, rel=1e-4), s
        assert rows[s]["regret"] >= -1e-6 and rows[s]["robust_profit"] <= rows[s]["own_optimum"] + 1e-6
    assert a["expected_profit"] == pytest.approx(sum(weights[s] * rows[s]["robust_profit"] for s in instances))
    committed = commit_cost(instances, weights, 1, lib.plans["base"])  # base's own plan committed instead
    assert a["committed_expected_profit"] == pytest.approx(committed.expected_profit, rel=1e-4)
    assert a["value_of_stochastic_solution"] == pytest.approx(a["expected_profit"] - committed.expected_profit, abs=1e-3)
    assert a["value_of_stochastic_solution"] > 1.0  # committing to base's plan costs something here

    page = client.get(f"/plans/{base_plan['id']}/scenarios")
    assert page.status_code == 200 and 'value="low=0.85, base, high=1.15"' in page.text
    assert f'href="/plans/{base_plan["id"]}/scenarios"' in client.get(f"/plans/{base_plan['id']}").text


def test_scenarios_asked_wrongly_are_refused_saying_where(client, base_plan) -> None:
    url = f"/api/plans/{base_plan['id']}/scenarios"
    r = client.post(url, json={"scenarios": ["base", "low=lots", "=2"]})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert [(p["file"], p["column"]) for p in problems] == [("request", "scenarios")] * 2
    assert "'lots' is not a factor" in problems[0]["message"] and "names no scenario" in problems[1]["message"]
    r = client.post(url, json={"scenarios": ["base", "peak"]})  # not in demand.csv, not made by scaling
    assert r.status_code == 422 and "no demand rows for scenario 'peak'" in r.json()["problems"][0]["message"]
    assert client.post(url, json={"robust": True, "commit": 9}).status_code == 422  # 4 periods


def test_questions_without_waiting_report_progress(client, base_plan) -> None:
    r = client.post(f"/api/plans/{base_plan['id']}/sweep", params={"wait": "false"},
                    json={"parameter": "credit_limit", "start": "0", "stop": "100", "steps": 2})
    assert r.status_code == 202
    jid = r.json()["job"]
    job = client.app.state.server.queue.wait(jid, timeout=120)
    view = client.get(f"/api/jobs/{jid}").json()
    assert job.status == view["status"] == "done" and len(view["answer"]["points"]) == 2
    assert view["progress"]["phase"] == "sweeping"


def test_cancel_a_running_plan_leaves_no_plan(tmp_path) -> None:
    """A plan cancelled while it runs ends `cancelled`; its folder holds its record only (no
    tables, no workbook) and no temporary folder is left behind."""
    root = make_root(tmp_path / "root", appliance=True)
    app = create_app(root, tmp_path / "ws", workers=1, max_queued=1)
    with TestClient(app) as c:
        pid = c.post("/api/plans", json={"instance": "appliance", "options": {"time_limit": 120}}).json()["id"]
        waiting = c.post("/api/plans", json={"instance": "tiny/rush_basic"}).json()["id"]
        refused = c.post("/api/plans", json={"instance": "tiny/rush_basic"})
        assert refused.status_code == 429 and "busy" in refused.json()["detail"]
        queue = app.state.server.queue
        while queue.get(pid).status == "queued":
            queue.wait(pid, timeout=0.2)
        assert c.post(f"/api/plans/{waiting}/cancel").json()["cancelled"]
        assert c.post(f"/api/plans/{pid}/cancel").json()["cancelled"]
        for p in (pid, waiting):
            view = wait_plan(c, p, timeout=30)
            assert view["status"] == "cancelled"
        import time

        for _ in range(50):  # the record is written by a queue thread
            if all((tmp_path / "ws" / "plans" / p / "plan.json").is_file() for p in (pid, waiting)):
                break
            time.sleep(0.1)
        for p in (pid, waiting):
            assert sorted(f.name for f in (tmp_path / "ws" / "plans" / p).iterdir()) == ["plan.json"]
        assert not [f for f in (tmp_path / "ws" / "plans").iterdir() if f.name.startswith(".")]
        assert c.post(f"/api/plans/{pid}/cancel").status_code == 409
        for page in ("", "/rush", "/sweep", "/limits", "/scenarios"):  # a plan without figures still has its pages
            assert c.get(f"/plans/{pid}{page}").status_code == 200, page
