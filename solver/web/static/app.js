// prodbudget serve: light JavaScript over the JSON API. Data strings are always set as text
// (textContent, Plotly's own escaping), never parsed as HTML.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function pageData(id = "page-data") {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

function money(v, cur) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  try {
    return new Intl.NumberFormat("en", {style: "currency", currency: cur || "CNY", currencyDisplay: "narrowSymbol", maximumFractionDigits: 0}).format(v);
  } catch (e) {
    return `${Math.round(v).toLocaleString("en")} ${cur || ""}`;
  }
}
const num = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v)) ? "" : Number(v).toLocaleString("en", {maximumFractionDigits: d});
const pct = (v) => (v === null || v === undefined) ? "" : `${(100 * v).toFixed(1)} %`;

async function api(method, url, body) {
  const opts = {method, headers: {}};
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const r = await fetch(url, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = {detail: r.statusText}; }
  return {ok: r.ok, status: r.status, data};
}

function showProblems(box, data) {
  box.hidden = false;
  box.replaceChildren();
  const problems = (data && data.problems) || [];
  let detail = data && data.detail;
  if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  box.append(el("p", {class: "error"}, detail || "refused"));
  if (problems.length) {
    const t = el("table", {class: "data"}, el("thead", {}, el("tr", {}, ...["file / sheet", "row", "column", "problem", "expected", "severity"].map((h) => el("th", {}, h)))));
    const tb = el("tbody");
    for (const p of problems) tb.append(el("tr", {class: p.severity}, el("td", {}, p.file), el("td", {}, p.row ?? ""), el("td", {}, p.column ?? ""), el("td", {}, p.message), el("td", {}, p.expected ?? ""), el("td", {}, p.severity)));
    t.append(tb);
    box.append(t);
  }
}

// ---------------------------------------------------------------- tables: sort, download, tabs

function sortTable(table, col, th) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const asc = th.dataset.sort !== "asc";
  $$("th", table).forEach((h) => delete h.dataset.sort);
  th.dataset.sort = asc ? "asc" : "desc";
  const key = (r) => { const c = r.cells[col]; return c ? (c.dataset.v ?? c.textContent) : ""; };
  rows.sort((a, b) => {
    const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
    const both = !Number.isNaN(nx) && !Number.isNaN(ny) && String(nx) !== "NaN" && /^-?[\d.eE+-]+$/.test(x) && /^-?[\d.eE+-]+$/.test(y);
    const d = both ? nx - ny : String(x).localeCompare(String(y), "zh");
    return asc ? d : -d;
  });
  body.append(...rows);
}

function csvOf(table) {
  const quote = (s) => /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  const lines = [];
  for (const r of table.rows) lines.push(Array.from(r.cells).map((c) => quote(c.dataset.v ?? c.textContent.trim())).join(","));
  return "\ufeff" + lines.join("\n") + "\n";
}

function download(name, text, type = "text/csv") {
  const a = el("a", {href: URL.createObjectURL(new Blob([text], {type})), download: name});
  document.body.append(a); a.click(); a.remove();
}

function wireTables(root = document) {
  for (const table of $$("table.sortable", root)) {
    $$("th", table).forEach((th, i) => { th.title = "sort"; th.addEventListener("click", () => sortTable(table, i, th)); });
  }
  for (const b of $$(".download-table", root)) {
    const box = b.closest(".table-box");
    b.addEventListener("click", () => download(`${box.dataset.name}.csv`, csvOf($("table", box))));
  }
  for (const tab of $$(".tab", root)) {
    tab.addEventListener("click", () => {
      $$(".tab").forEach((t) => t.classList.toggle("active", t === tab));
      $$(".tab-panel").forEach((p) => p.classList.toggle("hidden", p.dataset.panel !== tab.dataset.tab));
    });
  }
  for (const td of $$("[data-time]", root)) {
    const t = parseFloat(td.dataset.time);
    if (!Number.isNaN(t)) td.textContent = new Date(t * 1000).toLocaleString();
  }
}

function tableOf(rows, columns, format = {}, name = "table") {
  const t = el("table", {class: "data sortable"}, el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c)))));
  const tb = el("tbody");
  for (const r of rows) {
    tb.append(el("tr", {}, ...columns.map((c) => {
      const td = el("td", {}, format[c] ? format[c](r[c], r) : (typeof r[c] === "number" ? num(r[c], 2) : (r[c] ?? "")));
      if (r[c] !== null && r[c] !== undefined) td.dataset.v = r[c];
      return td;
    })));
  }
  t.append(tb);
  const box = el("div", {class: "table-box", "data-name": name}, el("div", {class: "table-tools"}, el("span", {class: "count"}, `${rows.length} rows`), el("button", {type: "button", class: "small download-table"}, "download shown table")), el("div", {class: "scroll"}, t));
  wireTables(box);
  return box;
}

// ---------------------------------------------------------------- jobs

async function runJob(url, body, statusBox, cur) {
  statusBox.textContent = "waiting for a worker …";
  const r = await api("POST", url + "?wait=false", body);
  if (!r.ok) return r;
  const id = r.data.job;
  for (;;) {
    await new Promise((res) => setTimeout(res, 1000));
    const j = await api("GET", `/api/jobs/${id}`);
    const p = j.data.progress || {};
    statusBox.textContent = `${j.data.status} · ${p.phase ? progressText(p, cur) : `${num(j.data.seconds, 0)} s`}`;
    if (j.data.status === "done") { statusBox.textContent = `done in ${num(j.data.seconds, 1)} s`; return {ok: true, data: j.data.answer}; }
    if (j.data.status !== "queued" && j.data.status !== "running") return {ok: false, data: {detail: j.data.error, problems: j.data.problems}};
  }
}

const layout = (extra = {}) => Object.assign({margin: {l: 70, r: 20, t: 10, b: 60}, height: 330, legend: {orientation: "h", y: -0.25},
  font: {family: "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif", size: 12}}, extra);
const plot = (id, traces, extra) => { const n = document.getElementById(id); if (n && window.Plotly) Plotly.newPlot(n, traces, layout(extra), {displaylogo: false, responsive: true}); };

// ---------------------------------------------------------------- index

function indexPage() {
  const box = $("#problems");
  for (const b of $$(".plan-instance")) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await api("POST", "/api/plans", {instance: b.dataset.instance, options: {time_limit: Number($("#time-limit").value) || 300}});
      b.disabled = false;
      if (r.ok) location.href = `/plans/${r.data.id}`; else showProblems(box, r.data);
    });
  }
  for (const b of $$(".check-instance")) {
    b.addEventListener("click", async () => {
      const r = await api("GET", `/api/instances/${b.dataset.instance.split("/").map(encodeURIComponent).join("/")}/problems`);
      showProblems(box, r.ok ? {detail: r.data.valid ? `${b.dataset.instance}: valid` : `${b.dataset.instance}: not valid`, problems: r.data.problems} : r.data);
    });
  }
  $("#upload").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    form.append("options", JSON.stringify({time_limit: Number($("#time-limit").value) || 300}));
    const r = await api("POST", "/api/plans", form);
    if (r.ok) location.href = `/plans/${r.data.id}`; else showProblems(box, r.data);
  });
}

// ---------------------------------------------------------------- plan

// progress events (solver/engine/progress.py, `Progress.to_dict()` plus `elapsed` and `at`):
// every route's search reports its best plan and bound under its own phase names ("solving"
// for HiGHS; "LP dive", "relax-and-fix", "fix-and-optimize", "bound" for large plans)
const known = (v) => v !== null && v !== undefined;
const searching = (h) => (known(h.incumbent) || known(h.bound)) && (h.objective || "profit") === "profit";

function progressChart(history, cur) {
  const s = history.filter(searching);
  if (!s.length) return;
  const text = s.map((h) => [h.phase, h.detail].filter(Boolean).join(" · "));
  plot("chart-progress", [
    {x: s.map((h) => h.at), y: s.map((h) => h.incumbent ?? null), text, name: "best plan (incumbent)", mode: "lines+markers", connectgaps: false},
    {x: s.map((h) => h.at), y: s.map((h) => h.bound ?? null), text, name: "bound", mode: "lines+markers", line: {dash: "dot"}},
  ], {height: 240, xaxis: {title: {text: "seconds"}}, yaxis: {title: {text: `profit (${cur || ""})`}}});
}

function progressText(p, cur) {
  if (!p || !p.phase) return "waiting for a worker …";
  const value = (v) => p.money === false ? num(v, 1) : money(v, cur);
  const best = !p.objective || p.objective === "profit" ? "best plan" : `best ${p.objective}`;
  const bits = [p.phase];
  if (p.detail) bits.push(p.detail);
  if (p.total) bits.push(`${p.done || 0} of ${p.total}`);
  if (p.incumbent !== undefined) bits.push(p.incumbent === null ? "no plan yet" : `${best} ${value(p.incumbent)}`);
  if (known(p.bound)) bits.push(`bound ${value(p.bound)}`);
  if (known(p.gap)) bits.push(`gap ${pct(p.gap)}`);
  if (known(p.elapsed)) bits.push(`${num(p.elapsed, 1)} s`);
  return bits.join(" · ");
}

async function pollPlan(id, cur) {
  for (;;) {
    const r = await api("GET", `/api/plans/${id}`);
    if (!r.ok) return;
    $("#status").textContent = r.data.status;
    $("#status").className = `status ${r.data.status}`;
    $("#progress-text").textContent = progressText(r.data.progress, cur);
    progressChart(r.data.history || [], cur);
    if (r.data.status !== "queued" && r.data.status !== "running") { location.reload(); return; }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

function planCharts(d) {
  const ch = d.charts || {}, cur = d.currency, periods = d.periods || [];
  if (ch.capacity) {
    const res = [...new Set(ch.capacity.map((r) => r.resource))];
    const z = res.map((r) => periods.map((p) => { const row = ch.capacity.find((c) => c.resource === r && c.period === p); return row && row.utilisation !== null ? row.utilisation : null; }));
    plot("chart-capacity", [{type: "heatmap", x: periods, y: res, z, colorscale: "YlOrRd", reversescale: true, zmin: 0, zmax: 1, hovertemplate: "%{y}<br>%{x}: %{z:.1%}<extra></extra>", colorbar: {tickformat: ".0%"}}],
      {margin: {l: 170, r: 20, t: 10, b: 50}, height: Math.max(260, 40 + 30 * res.length)});
  }
  if (ch.budget) {
    const traces = [];
    const lines = [...new Set(ch.budget.map((r) => r.line))];
    lines.forEach((line, k) => {
      const rows = periods.map((p) => ch.budget.find((r) => r.line === line && r.period === p) || {});
      traces.push({type: "bar", x: periods, y: rows.map((r) => r.spent), name: `${line}: spent`, offsetgroup: k, marker: {opacity: 0.9}});
      traces.push({type: "bar", x: periods, y: rows.map((r) => r.allocated), name: `${line}: allocated`, offsetgroup: k, marker: {opacity: 0.35}, base: 0});
      const ceil = rows.map((r) => (r.ceiling === null || r.ceiling === undefined || !isFinite(r.ceiling)) ? null : r.ceiling);
      if (ceil.some((c) => c !== null)) traces.push({type: "scatter", mode: "markers", x: periods, y: ceil, name: `${line}: ceiling`, marker: {symbol: "line-ew-open", size: 22, line: {width: 3}}});
      if (rows.some((r) => r.carryover === true || r.carryover === "True" || r.carryover === 1)) {
        let carried = 0;
        const y = rows.map((r) => { carried += (r.allocated || 0) - (r.spent || 0); return carried; });
        traces.push({type: "scatter", mode: "lines+markers", x: periods, y, name: `${line}: carried over (allocated − spent, cumulative)`, line: {dash: "dash"}});
      }
    });
    plot("chart-budget", traces, {barmode: "group", yaxis: {title: {text: cur}}});
  }
  if (ch.cash) {
    const c = ch.cash;
    plot("chart-cash", [
      {type: "bar", x: c.map((r) => r.period), y: c.map((r) => r.closing), name: "closing cash"},
      {type: "scatter", mode: "lines", x: c.map((r) => r.period), y: c.map((r) => r.minimum), name: "minimum cash", line: {dash: "dash"}},
      {type: "scatter", mode: "lines+markers", x: c.map((r) => r.period), y: c.map((r) => r.loan), name: "loan (credit line used)"},
    ], {yaxis: {title: {text: cur}}});
  }
  const stock = () => {
    const item = $("#stock-item") && $("#stock-item").value;
    const rows = (ch.inventory || []).filter((r) => r.item === item);
    const lim = (v) => (v === null || v === undefined || !isFinite(v)) ? null : v;
    plot("chart-stock", [
      {type: "bar", x: rows.map((r) => r.period), y: rows.map((r) => r.closing), name: "closing stock"},
      {type: "scatter", mode: "lines", x: rows.map((r) => r.period), y: rows.map((r) => lim(r.target_min)), name: "target (minimum)", line: {dash: "dash"}},
      {type: "scatter", mode: "lines", x: rows.map((r) => r.period), y: rows.map((r) => lim(r.target_max)), name: "limit (maximum)", line: {dash: "dot"}},
      {type: "scatter", mode: "markers", x: rows.map((r) => r.period), y: rows.map((r) => r.shortfall > 0 ? r.closing : null), name: "below target", marker: {color: "red", size: 10}},
    ], {yaxis: {title: {text: "units"}}});
  };
  if ($("#stock-item")) { $("#stock-item").addEventListener("change", stock); stock(); }
}

function changeForm() {
  const form = $("#change-form");
  if (!form) return;
  $("#add-change").addEventListener("click", () => {
    const row = $(".change-row", form).cloneNode(true);
    $$("input", row).forEach((i) => { i.value = ""; });
    $("#change-rows").append(row);
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const changes = {};
    for (const row of $$(".change-row", form)) {
      const p = $("[name=parameter]", row).value.trim(), v = $("[name=value]", row).value.trim();
      if (p && v) changes[p] = /%$/.test(v) || Number.isNaN(Number(v)) ? v : Number(v);
    }
    const r = await api("POST", "/api/plans", {plan: form.dataset.plan, changes, label: form.elements.label.value,
      options: {time_limit: Number(form.elements.time_limit.value) || 300}});
    if (r.ok) location.href = `/plans/${r.data.id}`; else showProblems($("#change-problems"), r.data);
  });
}

function planPage() {
  const d = pageData();
  const plan = d.plan || {};
  const cur = d.currency || plan.currency;
  if (plan.status === "queued" || plan.status === "running") pollPlan(plan.id, cur);
  else if ($("#progress-text")) {
    $("#progress-text").textContent = progressText((plan.history || []).filter(searching).slice(-1)[0] || plan.progress, cur);
    progressChart(plan.history || [], cur);
  }
  const cancel = $("#cancel");
  if (cancel) cancel.addEventListener("click", () => api("POST", `/api/plans/${cancel.dataset.plan}/cancel`));
  planCharts(d);
  changeForm();
}

// ---------------------------------------------------------------- rush, sweep, limits, compare

function rushPage() {
  const form = $("#rush-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = {product: f.product.value, quantity: Number(f.quantity.value), due: f.due.value, mode: f.mode.value,
      protect: f.protect.checked, time_limit: Number(f.time_limit.value) || 60};
    if (f.channel.value) body.channel = f.channel.value;
    if (f.price.value !== "") body.price = Number(f.price.value);
    $("#rush-answer").hidden = true;
    const r = await runJob(`/api/plans/${form.dataset.plan}/rush`, body, $("#job-status"), form.dataset.currency);
    if (!r.ok) { showProblems($("#job-status"), r.data); return; }
    const a = r.data, cur = a.currency || "CNY";
    $("#rush-answer").hidden = false;
    $("#rush-decision").textContent = `${a.decision}`;
    $("#rush-decision").className = a.profitable ? "good" : (a.feasible ? "warn" : "bad");
    const kpi = (label, value, small) => el("div", {class: "kpi"}, el("span", {}, label), el("strong", {}, value), el("small", {}, small || ""));
    $("#rush-kpis").replaceChildren(
      kpi("capable to promise", `${num(a.ctp_quantity, 1)} by ${a.due}`, "the most that can be delivered by then"),
      kpi("earliest full delivery", a.earliest_period || "not within the horizon"),
      kpi("profit change", money(a.profit_delta, cur), `${money(a.profit_without, cur)} → ${money(a.profit_with, cur)}`),
      kpi("break-even price", a.break_even_price === null ? "—" : money(a.break_even_price, cur), `offered ${money(a.price, cur)} (${a.price_source})`),
    );
    $("#rush-reasons").replaceChildren(...[...(a.reasons || []), ...(a.warnings || [])].map((t) => el("li", {}, t)));
    const cut = a.cut_orders || [];
    $("#rush-cut").replaceChildren(cut.length ? tableOf(cut, Object.keys(cut[0])) : el("p", {}, "none"));
    const bl = a.blocking || [];
    $("#rush-blocking").replaceChildren(bl.length ? tableOf(bl, Object.keys(bl[0])) : el("p", {}, "nothing binds"));
    const imp = a.impact || {};
    const lines = [];
    if (imp.budget_spent_delta !== undefined) lines.push(`budget committed: ${money(imp.budget_spent_delta, cur)} more`);
    if (imp.cash) lines.push(`lowest cash headroom ${money(imp.cash.min_headroom_baseline, cur)} → ${money(imp.cash.min_headroom_new, cur)} (${imp.cash.min_headroom_period_new})`);
    if (imp.credit) lines.push(`peak loan ${money(imp.credit.max_loan_baseline, cur)} → ${money(imp.credit.max_loan_new, cur)} of ${money(imp.credit.limit, cur)}`);
    $("#rush-impact").replaceChildren(el("ul", {}, ...lines.map((t) => el("li", {}, t))));
  });
}

function sweepPage() {
  const form = $("#sweep-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const r = await runJob(`/api/plans/${form.dataset.plan}/sweep`, {parameter: f.parameter.value.trim(), start: f.start.value, stop: f.stop.value, steps: Number(f.steps.value)}, $("#job-status"));
    if (!r.ok) { showProblems($("#job-status"), r.data); return; }
    const pts = r.data.points, cur = r.data.currency;
    $("#sweep-answer").hidden = false;
    plot("chart-sweep", [
      {x: pts.map((p) => p.value), y: pts.map((p) => p.profit), name: "profit", mode: "lines+markers"},
      {x: pts.filter((p) => p.breakpoint).map((p) => p.value), y: pts.filter((p) => p.breakpoint).map((p) => p.profit), name: "breakpoint", mode: "markers", marker: {size: 14, symbol: "diamond"}},
      {x: pts.map((p) => p.value), y: pts.map((p) => p.service_level), name: "service level", mode: "lines", yaxis: "y2", line: {dash: "dot"}},
    ], {xaxis: {title: {text: r.data.parameter}}, yaxis: {title: {text: `profit (${cur})`}}, yaxis2: {overlaying: "y", side: "right", tickformat: ".0%", range: [0, 1.05]}});
    $("#sweep-table").replaceChildren(tableOf(pts, ["value", "point", "status", "profit", "marginal_value", "service_level", "breakpoint", "seconds"], {profit: (v) => money(v, cur), service_level: pct}));
  });
}

// the metrics of a scenario comparison (solver/analysis/scenarios.py METRICS, budget_used:LINE,
// robust_*), each in its own unit and in words
function scenarioValue(metric, v, cur) {
  if (v === null || v === undefined) return "—";
  if (metric === "weight") return num(v, 3);
  if (/service_level|utilisation/.test(metric)) return pct(v);
  return money(v, cur);
}

function scenarioMetric(metric, reference) {
  const words = (m) => m.startsWith("budget_used:") ? `budget used: ${m.slice(12)}` : ({service_level: "service level",
    lowest_cash: "lowest closing cash", peak_loan: "peak loan", peak_utilisation: "peak utilisation"}[m] || m);
  if (metric === "weight") return "weight";
  if (metric === "regret") return "regret: its own best − robust plan";
  if (metric === "reference_committed_profit") return `profit, ${reference}'s plan committed`;
  if (metric.startsWith("robust_")) return `${words(metric.slice(7))}, robust plan`;
  return `${words(metric)}, its own best plan`;
}

function scenariosAnswer(a) {
  const cur = a.currency, names = a.scenarios, rows = a.rows, ref = a.reference;
  $("#scenarios-answer").hidden = false;
  const kpi = (label, value, small, id) => el("div", Object.assign({class: "kpi"}, id ? {id} : {}), el("span", {}, label), el("strong", {}, value), el("small", {}, small || ""));
  const weights = names.map((s) => `${s} ${num(a.weights[s], 3)}`).join(", ");
  const kpis = [kpi("expected profit, each scenario planned on its own", money(a.wait_and_see, cur), `as if demand were known in advance · weights ${weights}`, "wait-and-see")];
  if (a.robust) {
    kpis.push(kpi(`robust plan: periods 1..${a.commit} shared`, money(a.expected_profit, cur), `expected profit · ${a.robust_status}`, "robust-expected"));
    if (a.committed_expected_profit !== undefined) {
      const failed = a.committed_infeasible || [];
      kpis.push(kpi(`committing to ${ref}'s own plan instead`, a.committed_expected_profit === null ? "no plan" : money(a.committed_expected_profit, cur),
        failed.length ? `its periods 1..${a.commit} leave no plan in ${failed.join(", ")}` : "expected profit, the rest re-planned per scenario"));
      kpis.push(kpi("value of the stochastic solution", a.value_of_stochastic_solution === null ? "—" : money(a.value_of_stochastic_solution, cur),
        failed.length ? "the robust plan is the commitment that works in every scenario" : `what the robust plan earns over ${ref}'s`, "vss"));
    }
  }
  $("#scenarios-kpis").replaceChildren(...kpis);
  $("#scenarios-notes").textContent = [a.robust && a.robust_message !== a.robust_status ? a.robust_message : "",
    `${names.length} scenarios solved in ${num(a.seconds, 1)} s`].filter(Boolean).join(" · ");
  const profits = [{type: "bar", x: names, y: rows.map((r) => r.profit), name: "its own best plan"}];
  const costs = [];
  if (a.robust) {
    profits.push({type: "bar", x: names, y: rows.map((r) => r.robust_profit), name: `robust plan (periods 1..${a.commit} shared)`});
    costs.push({type: "bar", x: names, y: rows.map((r) => r.regret), name: "robust plan (regret)"});
    if (rows.some((r) => r.reference_committed_profit !== undefined)) {
      profits.push({type: "bar", x: names, y: rows.map((r) => r.reference_committed_profit ?? null), name: `${ref}'s plan committed`});
      costs.push({type: "bar", x: names, y: rows.map((r) => (r.reference_committed_profit === null || r.reference_committed_profit === undefined) ? null : r.own_optimum - r.reference_committed_profit), name: `${ref}'s plan committed`});
    }
  }
  plot("chart-scenarios", profits, {barmode: "group", yaxis: {title: {text: `profit (${cur})`}}});
  $("#chart-scenario-cost-box").hidden = !costs.length;
  if (costs.length) plot("chart-scenario-cost", costs, {barmode: "group", yaxis: {title: {text: `below its own best plan (${cur})`}}});
  const fmt = Object.fromEntries(names.map((s) => [s, (v, r) => scenarioValue(r.metric, v, cur)]));
  fmt.metric = (v) => scenarioMetric(v, ref);
  $("#scenarios-table").replaceChildren(tableOf(a.table, ["metric", ...names], fmt, "scenarios"));
  const plan = a.commit_plan || [];
  $("#commit-box").hidden = !a.robust;
  if (a.robust) {
    $("#commit-title").textContent = `The robust plan's commitments: periods 1..${a.commit}`;
    $("#commit-table").replaceChildren(plan.length ? tableOf(plan, Object.keys(plan[0]), {cost: (v) => money(v, cur)}, "commit_plan") : el("p", {}, "nothing is made or bought in those periods"));
  }
}

function scenariosPage() {
  const form = $("#scenarios-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = {scenarios: f.scenarios.value.split(",").map((s) => s.trim()).filter(Boolean), robust: f.robust.checked,
      commit: Number(f.commit.value), time_limit: Number(f.time_limit.value) || 120};
    $("#scenarios-answer").hidden = true;
    const r = await runJob(`/api/plans/${form.dataset.plan}/scenarios`, body, $("#job-status"), form.dataset.currency);
    if (r.ok) scenariosAnswer(r.data); else showProblems($("#job-status"), r.data);
  });
}

function limitsTable(limits) {
  const box = $("#limits-table"), cur = box.dataset.currency, plan = box.dataset.plan;
  const rows = limits.filter((l) => l.kind === "limit");
  const cols = ["family", "entity", "period", "value_of_step", "value_basis", "step", "shadow_price", "text", ""];
  const t = tableOf(rows, cols, {value_of_step: (v) => money(v, cur), shadow_price: (v) => num(v, 4), "": () => ""});
  $$("tbody tr", t).forEach((tr, i) => {
    const l = rows[i];
    const cell = tr.cells[tr.cells.length - 1];
    if (!l.parameter) { cell.textContent = "no number of its own"; return; }
    const change = l.shadow_price > 0 ? "+10%" : "-10%";
    cell.append(el("button", {class: "relax", onclick: async (ev) => {
      ev.target.disabled = true;
      const r = await api("POST", "/api/plans", {plan, changes: {[l.parameter]: change}, label: `${l.parameter} ${change}`});
      if (r.ok) location.href = `/plans/${r.data.id}`; else { ev.target.disabled = false; showProblems($("#job-status"), r.data); }
    }}, `relax ${change} and re-solve`));
  });
  box.replaceChildren(t);
}

function limitsPage() {
  limitsTable(pageData("limits-data"));
  const form = $("#measure-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await runJob(`/api/plans/${form.dataset.plan}/limits`, {measure: Number(form.elements.measure.value)}, $("#job-status"));
    if (r.ok) limitsTable(r.data.limits); else showProblems($("#job-status"), r.data);
  });
}

function comparePage() {
  const d = pageData();
  const b = d.budget || [];
  const lines = [...new Set(b.map((r) => r.line))];
  plot("chart-budget-diff", lines.map((line) => {
    const rows = b.filter((r) => r.line === line);
    return {type: "bar", x: rows.map((r) => r.period), y: rows.map((r) => r.spent_difference), name: line};
  }), {barmode: "group"});
  const c = d.cash || [];
  plot("chart-cash-diff", [
    {x: c.map((r) => r.period), y: c.map((r) => r.closing_a), name: "closing cash a", mode: "lines+markers"},
    {x: c.map((r) => r.period), y: c.map((r) => r.closing_b), name: "closing cash b", mode: "lines+markers"},
    {x: c.map((r) => r.period), y: c.map((r) => r.loan_a), name: "loan a", mode: "lines", line: {dash: "dot"}},
    {x: c.map((r) => r.period), y: c.map((r) => r.loan_b), name: "loan b", mode: "lines", line: {dash: "dot"}},
  ]);
}

document.addEventListener("DOMContentLoaded", () => {
  wireTables();
  const page = document.body.dataset.page;
  ({index: indexPage, plan: planPage, rush: rushPage, sweep: sweepPage, limits: limitsPage, compare: comparePage, scenarios: scenariosPage}[page] || (() => {}))();
});
