"""`prodbudget serve` against hostile names, uploads and callers, a burst of requests on
loopback, and a server killed mid-solve."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from fastapi.testclient import TestClient

from solver.io.workbook import convert
from solver.web.app import create_app
from tests.web_helpers import REPO, make_root, serving, tree_state, wait_plan

pytestmark = pytest.mark.solver
HOSTILE = '<script>alert(1)</script>'
FORMULA = '=HYPERLINK("http://evil.example","click")'


def hostile_instance(root: Path) -> Path:
    """tiny/rush_basic with a product named <script>…, a channel named =HYPERLINK(…) and, beside
    its base demand, a demand scenario named <script>… (the base demand halved)."""
    folder = root / "hostile"
    shutil.copytree(REPO / "instances" / "tiny" / "rush_basic", folder)
    for name in ("items.csv", "demand.csv", "routings.csv", "bom.csv", "channels.csv"):
        f = folder / name
        if f.exists():
            text = f.read_text("utf-8").replace("widget", '"' + HOSTILE + '"').replace("retail", '"' + FORMULA.replace('"', '""') + '"')
            f.write_text(text, "utf-8")
    demand = pd.read_csv(folder / "demand.csv")
    other = demand.assign(quantity=demand["quantity"] / 2, scenario=HOSTILE)
    pd.concat([demand.assign(scenario="base"), other]).to_csv(folder / "demand.csv", index=False)
    return folder


def test_names_are_escaped_in_pages(tmp_path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    hostile_instance(root)
    with TestClient(create_app(root, tmp_path / "ws")) as c:
        r = c.post("/api/plans", json={"instance": "hostile", "options": {"time_limit": 60}})
        assert r.status_code == 202, r.text
        plan = wait_plan(c, r.json()["id"])
        assert plan["status"] == "optimal", plan
        products = {row["product"] for row in c.get(f"/api/plans/{plan['id']}/tables/sales").json()}
        assert products == {HOSTILE}
        for url in (f"/plans/{plan['id']}", f"/plans/{plan['id']}/rush", f"/plans/{plan['id']}/limits",
                    f"/plans/{plan['id']}/scenarios", f"/compare?a={plan['id']}&b={plan['id']}", "/"):
            page = c.get(url)
            assert page.status_code == 200
            assert "<script>alert" not in page.text, url  # escaped wherever it appears
            assert "script-src 'self'" in page.headers["content-security-policy"]
        text = c.get(f"/plans/{plan['id']}").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "=HYPERLINK(" in text.replace("&#34;", '"')
        csv = c.get(f"/api/plans/{plan['id']}/tables/sales", params={"format": "csv"}).text
        assert HOSTILE in csv  # the data as it is: CSV readers, not browsers, read it
        text = c.get(f"/plans/{plan['id']}/scenarios").text  # the scenario named <script>… offered as text
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;, base"' in text
        answer = c.post(f"/api/plans/{plan['id']}/scenarios", json={"scenarios": ["base", HOSTILE]})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert answer.json()["scenarios"] == ["base", HOSTILE]  # data in JSON, drawn by app.js as text


def test_names_never_become_paths_outside_root(tmp_path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(REPO / "instances" / "tiny" / "rush_basic", outside / "secret")
    root = make_root(tmp_path / "root")
    (root / "link").symlink_to(outside / "secret", target_is_directory=True)
    (root / "tiny" / "rush_basic" / "bom.csv").unlink()
    (root / "tiny" / "rush_basic" / "bom.csv").symlink_to(outside / "secret" / "bom.csv")
    before = tree_state(outside)
    with TestClient(create_app(root, tmp_path / "ws")) as c:
        names = [i["name"] for i in c.get("/api/instances").json()]
        assert "link" not in names and not any("secret" in n for n in names)
        for name in ("../outside/secret", "/etc", str(outside / "secret"), "link", "tiny/../../outside/secret",
                     "tiny\\rush_basic", "tiny/rush_basic/../../../outside/secret"):
            r = c.post("/api/plans", json={"instance": name})
            assert r.status_code in (400, 404), (name, r.status_code, r.text)
        r = c.post("/api/plans", json={"instance": "tiny/rush_basic"})  # its bom.csv leads outside ROOT
        assert r.status_code == 400 and "outside ROOT" in r.json()["detail"]
        for pid in ("../../etc", "..", "a/b", "A" * 100):
            assert c.get(f"/api/plans/{pid}").status_code == 404
        assert c.get("/api/plans/..%2F..%2Fetc/workbook").status_code == 404
        assert c.get("/static/..%2F..%2Fapp.py").status_code == 404
    assert tree_state(outside) == before


def test_uploads_are_limited_in_size_and_type_and_problems_located(tmp_path) -> None:
    root = make_root(tmp_path / "root")
    good = convert(REPO / "instances" / "tiny" / "rush_basic", tmp_path / "good.xlsx")
    with TestClient(create_app(root, tmp_path / "ws", max_upload_mb=0.05)) as c:
        r = c.post("/api/plans", files={"file": ("plan.csv", b"a,b\n1,2\n", "text/csv")})
        assert r.status_code == 415
        r = c.post("/api/plans", files={"file": ("fake.xlsx", b"not a zip", "application/octet-stream")})
        assert r.status_code == 415
        r = c.post("/api/plans", files={"file": ("big.xlsx", b"PK\x03\x04" + b"0" * 200_000, "application/octet-stream")})
        assert r.status_code == 413
        r = c.post("/api/plans", files={"file": ("rush.xlsx", good.read_bytes(), "application/octet-stream")},
                   data={"options": '{"time_limit": 60}'})
        assert r.status_code == 202, r.text
        assert wait_plan(c, r.json()["id"])["status"] == "optimal"
        import openpyxl

        book = openpyxl.load_workbook(good)
        book["items"]["C2"] = "lots"  # unit_cost of the first item: not a number
        broken = io.BytesIO()
        book.save(broken)
        r = c.post("/api/plans", files={"file": ("broken.xlsx", broken.getvalue(), "application/octet-stream")})
        assert r.status_code == 422
        problem = r.json()["problems"][0]
        assert "items" in problem["file"] and problem["row"] == 2 and problem["column"] == "unit_cost"


def test_token_is_required_when_set(tmp_path) -> None:
    root = make_root(tmp_path / "root")
    with TestClient(create_app(root, tmp_path / "ws", token="s3cret")) as c:
        assert c.get("/api/health").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/", params={"token": "s3cret"}).status_code == 200  # sets the cookie for the pages
        assert c.get("/api/instances").status_code == 200
    refused = subprocess.run([sys.executable, "-m", "solver.cli", "serve", str(root), "--host", "0.0.0.0",
                              "--no-browser"], cwd=REPO, capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if k != "PRODBUDGET_TOKEN"})
    assert refused.returncode == 2 and "--token" in refused.stderr


def test_twenty_concurrent_plans_on_loopback(tmp_path) -> None:
    """20 plan requests at once against a server with 2 workers and 6 places in the queue:
    each is accepted and ends optimal, or is refused with 429 and a reason; never more than 2
    solves at once; memory bounded."""
    root = make_root(tmp_path / "root")
    with serving(root, tmp_path / "ws", "--workers", "2", "--queue", "6") as (url, proc):
        server = psutil.Process(proc.pid)
        answers: list[httpx.Response] = []
        peak = {"rss": 0, "workers": 0}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    kids = server.children(recursive=True)
                    rss = server.memory_info().rss + sum(k.memory_info().rss for k in kids)
                    peak["rss"] = max(peak["rss"], rss)
                    workers = [k for k in kids if k.ppid() == server.pid and "spawn_main" in " ".join(k.cmdline())]
                    peak["workers"] = max(peak["workers"], len(workers))  # not the resource tracker
                except psutil.Error:
                    pass
                time.sleep(0.1)

        def ask(k: int) -> None:
            name = ("tiny/rush_basic", "tiny/budget_period_ceiling")[k % 2]
            answers.append(httpx.post(url + "/api/plans", json={"instance": name, "options": {"time_limit": 60}}, timeout=60))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        threads = [threading.Thread(target=ask, args=(k,)) for k in range(20)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            done.set()
        done.clear()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        accepted = [r.json()["id"] for r in answers if r.status_code == 202]
        refused = [r for r in answers if r.status_code != 202]
        try:
            assert len(answers) == 20 and all(r.status_code == 429 and "busy" in r.json()["detail"] for r in refused), \
                [(r.status_code, r.text) for r in refused]
            ended = {}
            with httpx.Client(base_url=url, timeout=30) as client:
                for pid in accepted:
                    ended[pid] = wait_plan(client, pid, timeout=300)["status"]
        finally:
            done.set()
            watcher.join()
        assert set(ended.values()) == {"optimal"}, ended
        assert 8 <= len(accepted) <= 20 and len(accepted) + len(refused) == 20
        assert peak["workers"] <= 2, peak
        assert peak["rss"] < 3 * 1024**3, peak
        print(f"\nload test: 20 requests, {len(accepted)} accepted and finished, {len(refused)} refused (429); "
              f"peak memory {peak['rss'] / 1024**2:.0f} MB (server + workers), at most {peak['workers']} workers")


def test_killing_the_server_mid_solve_leaves_no_half_written_version(tmp_path) -> None:
    root = make_root(tmp_path / "root", appliance=True)
    ws = tmp_path / "ws"
    with serving(root, ws) as (url, proc):
        r = httpx.post(url + "/api/plans", json={"instance": "appliance", "changes": {"credit_limit": "+10%"},
                                                 "options": {"time_limit": 120}}, timeout=60)
        pid = r.json()["id"]
        for _ in range(600):
            view = httpx.get(f"{url}/api/plans/{pid}", timeout=10).json()
            if view["status"] == "running" and (view.get("progress") or {}).get("phase") == "solving":
                break
            time.sleep(0.1)
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        psutil.wait_procs(workers, timeout=10)
        assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    versions = [d for d in (ws / "versions").iterdir() if not d.name.startswith(".")]
    assert versions and all((d / "version.json").is_file() and (d / "instance" / "instance.toml").is_file()
                            for d in versions)
    assert not (ws / "plans" / pid).exists()  # the plan never half-exists
    with serving(root, ws) as (url, _proc):  # a restart serves the versions kept
        assert httpx.get(url + "/api/plans", timeout=10).json() == []
        r = httpx.post(url + "/api/plans", json={"version": versions[0].name, "options": {"time_limit": 60}}, timeout=60)
        assert r.status_code == 202
