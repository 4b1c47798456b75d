"""The demo planned, questioned and compared in a real browser: Playwright driving Debian's
chromium against `prodbudget serve` on loopback. Each page is saved as a PNG
(under $PRODBUDGET_SCREENSHOTS, by default a temporary folder).

These tests skip, saying why, only where no browser exists (no /usr/bin/chromium or no
playwright); .ci/run installs chromium and fonts-noto-cjk so that they run in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import httpx
import openpyxl
import pytest

from tests.web_helpers import make_root, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# where the pages' screenshots go: a temporary folder, so a test run leaves the checkout as it was;
# `PRODBUDGET_SCREENSHOTS=docs/screenshots make test` refreshes the ones the README shows
SHOTS = Path(os.environ.get("PRODBUDGET_SCREENSHOTS") or Path(tempfile.gettempdir()) / "prodbudget-screenshots")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no browser here: the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        pytest.skip("no browser here: chromium is not installed (apt-get install chromium fonts-noto-cjk; .ci/run does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("root"), appliance=True)
    with serving(root, tmp_path_factory.mktemp("workspace")) as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(180_000)
    yield pg
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_solved(page) -> float:
    """Wait for the plan page to show a finished plan; its profit as the page shows it."""
    page.wait_for_selector("#kpi-profit")
    return float(page.locator("#kpi-profit").get_attribute("data-value"))


def profit_text_value(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text))


@pytest.fixture(scope="module")
def demo_plans(page, server) -> dict:
    """Plan the demo from the index page, then change a budget and re-solve as a new version."""
    page.goto(server + "/")
    page.wait_for_selector("text=appliance")
    page.fill("#time-limit", "120")
    shot(page, "index")
    page.click("button.plan-instance[data-instance='appliance']")
    page.wait_for_url(re.compile(r"/plans/[0-9a-f]+$"))
    base_id = page.url.rsplit("/", 1)[1]
    base_profit = wait_solved(page)
    page.wait_for_selector("#chart-capacity .main-svg")
    shot(page, "plan")
    shown = profit_text_value(page.locator("#kpi-profit").inner_text())
    page.fill("#change-rows [name=parameter]", "line_ceiling:production")
    page.fill("#change-rows [name=value]", "+10%")
    page.fill("#change-form [name=label]", "production budget +10 %")
    page.click("#change-form button[type=submit]")
    page.wait_for_url(re.compile(r"/plans/(?!" + base_id + r")[0-9a-f]+$"))
    new_id = page.url.rsplit("/", 1)[1]
    new_profit = wait_solved(page)
    return {"base": base_id, "base_profit": base_profit, "shown": shown, "new": new_id, "new_profit": new_profit}


def test_plan_the_demo_and_read_its_profit(demo_plans, server, page) -> None:
    api = httpx.get(f"{server}/api/plans/{demo_plans['base']}").json()
    assert api["status"] == "optimal"
    assert demo_plans["base_profit"] == pytest.approx(api["kpis"]["objective"])
    assert demo_plans["shown"] == pytest.approx(api["kpis"]["objective"], abs=1.0)  # shown to the yuan
    import time

    started = time.perf_counter()
    page.goto(f"{server}/plans/{demo_plans['base']}")
    page.wait_for_selector("#chart-stock .main-svg")
    print(f"\nappliance plan page: loaded and every chart drawn in {time.perf_counter() - started:.2f} s")
    assert "顺德" in page.locator("#chart-capacity").inner_text()  # Chinese names drawn in the chart
    assert page.locator("#table-sales tbody tr").count() > 0


def test_changed_budget_is_a_new_version_with_at_least_the_profit(demo_plans, server) -> None:
    """More production budget (the demo's top limit) never loses profit (both within their MIP gap)."""
    new = httpx.get(f"{server}/api/plans/{demo_plans['new']}").json()
    assert new["changes"] == {"line_ceiling:production": "+10%"} and new["status"] in ("optimal", "feasible")
    tol = 1e-4 * abs(demo_plans["base_profit"])
    assert demo_plans["new_profit"] >= demo_plans["base_profit"] - tol


def test_compare_the_two_versions(demo_plans, server, page) -> None:
    page.goto(f"{server}/compare?a={demo_plans['base']}&b={demo_plans['new']}")
    page.wait_for_selector("#chart-budget-diff .main-svg")
    shown = profit_text_value(page.locator("#profit-difference").inner_text())
    assert shown == pytest.approx(demo_plans["new_profit"] - demo_plans["base_profit"], abs=1.0)
    shot(page, "compare")


def test_rush_order_answer(demo_plans, server, page) -> None:
    page.goto(f"{server}/plans/{demo_plans['base']}/rush")
    page.select_option("#rush-form [name=due]", index=5)
    page.fill("#rush-form [name=quantity]", "300")
    page.click("#rush-form button[type=submit]")
    page.wait_for_selector("#rush-answer:not([hidden])")
    decision = page.locator("#rush-decision").inner_text()
    assert decision and page.locator("#rush-kpis .kpi").count() == 4
    shot(page, "rush")


def test_download_the_workbook(demo_plans, server, page, tmp_path) -> None:
    page.goto(f"{server}/plans/{demo_plans['base']}")
    with page.expect_download() as info:
        page.click("#download-workbook")
    path = tmp_path / "result.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert len(book.sheetnames) >= 5


def test_limits_and_sweep_pages(demo_plans, server, page) -> None:
    page.goto(f"{server}/plans/{demo_plans['base']}/limits")
    page.wait_for_selector("#limits-table button.relax")
    shot(page, "limits")
    page.goto(f"{server}/plans/{demo_plans['base']}/sweep?parameter=credit_limit")
    page.fill("#sweep-form [name=start]", "-50%")
    page.fill("#sweep-form [name=stop]", "+50%")
    page.fill("#sweep-form [name=steps]", "3")
    page.click("#sweep-form button[type=submit]")
    page.wait_for_selector("#chart-sweep .main-svg")
    rows = page.locator("#sweep-table tbody tr")
    # the three asked points, plus the probes the sweep solved to locate the slope changes
    assert rows.filter(has=page.locator("td", has_text="grid")).count() == 3
    assert rows.count() >= 3
    shot(page, "sweep")


def test_demo_scenarios_page(demo_plans, server, page) -> None:
    """The demo has one demand scenario: the page offers it between demand 15 % lower and
    higher, and any of its 12 months as the end of the committed periods."""
    import time

    started = time.perf_counter()
    page.goto(f"{server}/plans/{demo_plans['base']}/scenarios")
    page.wait_for_selector("#scenarios-form button[type=submit]")
    print(f"\nappliance scenarios page: loaded in {time.perf_counter() - started:.2f} s")
    assert page.input_value("#scenarios-form [name=scenarios]") == "low=0.85, base, high=1.15"
    assert page.locator("#scenarios-form [name=commit] option").count() == 12


def test_scenarios_with_the_robust_plan(server, page) -> None:
    """A small instance's demand 20 % lower (淡季) and 10 % higher (旺季) than its base, and one
    plan of the first week for all three: the page shows what the API answers, Chinese names
    in the table and the chart, and the robust plan's commitments."""
    pid = httpx.post(f"{server}/api/plans", json={"instance": "tiny/rush_basic", "options": {"time_limit": 60}}).json()["id"]
    page.goto(f"{server}/plans/{pid}")
    wait_solved(page)
    import time

    started = time.perf_counter()
    page.click(f"a[href='/plans/{pid}/scenarios']")
    page.wait_for_selector("#scenarios-form button[type=submit]")
    print(f"\nscenarios page: loaded in {time.perf_counter() - started:.2f} s")
    page.fill("#scenarios-form [name=scenarios]", "淡季=0.8, base, 旺季=1.1")
    page.click("#scenarios-form button[type=submit]")
    page.wait_for_selector("#chart-scenarios .main-svg")
    print(f"scenarios and the robust plan answered and drawn in {time.perf_counter() - started:.2f} s")
    answer = httpx.post(f"{server}/api/plans/{pid}/scenarios", timeout=300,
                        json={"scenarios": ["淡季=0.8", "base", "旺季=1.1"], "robust": True, "commit": 1,
                              "time_limit": 120}).json()
    headers = page.locator("#scenarios-table th").all_inner_texts()
    assert [h.strip() for h in headers] == ["metric", "淡季", "base", "旺季"]
    assert "淡季" in page.locator("#chart-scenarios").inner_text()  # Chinese names drawn in the chart
    shown = profit_text_value(page.locator("#vss strong").inner_text())
    assert shown == pytest.approx(answer["value_of_stochastic_solution"], abs=1.0)
    assert page.locator("#commit-table tbody tr").count() == len(answer["commit_plan"]) > 0
    shot(page, "scenarios")


def test_heuristic_plan_shows_its_best_plan_and_bound(server, page) -> None:
    """A plan by relax-and-fix (the large-plan heuristic, asked for on a small instance): the
    progress chart draws its best plan and bound as its windows moved them, the text ends at
    the plan's figures."""
    pid = httpx.post(f"{server}/api/plans", json={"instance": "tiny/scenarios_demand",
                                                  "options": {"time_limit": 60, "strategy": "relax-and-fix"}}).json()["id"]
    page.goto(f"{server}/plans/{pid}")
    wait_solved(page)
    page.wait_for_selector("#chart-progress .main-svg")
    plan = httpx.get(f"{server}/api/plans/{pid}").json()
    drawn = page.evaluate("() => document.getElementById('chart-progress').data[0].text")
    assert any(t.startswith("fix-and-optimize") for t in drawn) and drawn[-1].startswith("solved"), drawn
    best = page.evaluate("() => document.getElementById('chart-progress').data[0].y")
    assert best[-1] == pytest.approx(plan["kpis"]["objective"])
    assert f"best plan ¥{plan['kpis']['objective']:,.0f}" in page.locator("#progress-text").inner_text()
