"""What a worker process of `prodbudget serve` does: one library call per job kind.

Each task gets the job's payload (plain data: folders, options, the question) and a
`report(**progress)` function, asks the library exactly as the command line does
(solver/cli/<command>.py), and returns a JSON-able answer. The plan task also writes the plan
folder, whole or not at all (a killed worker leaves only a hidden temporary sibling, swept by
the next write). Nothing here prints; nothing here decides anything about planning.
"""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path

from solver.engine.options import SolveOptions
from solver.io.problems import InputError

PLAN_FILE = "plan.json"
OUT_FOLDER = "out"  # the plan as `prodbudget solve --out` writes it
WORKBOOK_FILE = "result.xlsx"
REQUEST_SCENARIOS = ("request", "scenarios")  # where a scenarios question's problems are located


def run(conn, kind: str, payload: dict) -> None:
    """Entry point in the child (see solver/web/jobs.py): run TASKS[kind], send the answer."""
    from solver.io.writers import to_jsonable

    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    def report(**fields) -> None:
        conn.send(("progress", to_jsonable(fields)))

    try:
        answer = TASKS[kind](payload, report)
        conn.send(("result", to_jsonable(answer)))
    except InputError as err:
        conn.send(("error", "the input has problems", [problem_dict(p) for p in err.problems]))
    except (ValueError, LookupError) as err:  # a question the data cannot answer (ParameterError, DiagnosisError, …)
        conn.send(("error", str(err), []))
    except Exception as err:  # noqa: BLE001 - a worker reports, the server stays up
        traceback.print_exc()
        conn.send(("error", f"{type(err).__name__}: {err}", []))


def problem_dict(p) -> dict:
    return {"file": p.file, "row": p.row, "column": p.column, "message": p.message,
            "expected": p.expected, "severity": "error" if p.is_error else "warning"}


def solve_options(options: dict, **extra) -> SolveOptions:
    """SolveOptions from the API's validated options (solver/web/app.py's SolveSettings)."""
    keys = ("time_limit", "gap", "threads", "seed", "formulation", "strategy")
    return SolveOptions(**{k: options[k] for k in keys if k in options}, **extra)


def _progress_to(report, started: float):
    """A library progress callback (`Progress` events, solver/engine/progress.py) that sends each
    event's fields (`Progress.to_dict()`, unknown numbers left out; `incumbent` None while a
    search with a bound has no plan yet) and the seconds since the task began (`elapsed`)."""

    def progress(event) -> None:
        fields = {k: v for k, v in event.to_dict().items() if v is not None}
        if "bound" in fields and "incumbent" not in fields:
            fields["incumbent"] = None  # searching, no plan yet
        report(**fields, elapsed=round(time.perf_counter() - started, 3))

    return progress


def _say(report, started: float):
    """`say(phase)`: a phase of the task itself, with its elapsed seconds."""
    return lambda phase: report(phase=phase, elapsed=round(time.perf_counter() - started, 3))


def plan(payload: dict, report) -> dict:
    """Solve the version's instance, explain it when infeasible, write the plan folder."""
    from solver.analysis.diagnosis import diagnose
    from solver.engine.pipeline import solve
    from solver.engine.status import Status
    from solver.io.loading import load_instance
    from solver.io.workbook import result_workbook_for, save_workbook
    from solver.io.writers import result_filler, write_folder_atomically, write_json

    started = time.perf_counter()
    progress, say = _progress_to(report, started), _say(report, started)
    options = payload["options"]
    inst = load_instance(payload["instance"], scenario=options.get("scenario", "base"))
    result = solve(inst, solve_options(options, sensitivity=True), progress=progress)
    record = {**payload["record"], "status": _status(result.status), "message": result.message,
              "kpis": result.kpis, "currency": inst.currency, "periods": list(inst.periods)}
    if result.status == Status.INFEASIBLE:
        say("explaining why no plan exists")
        diagnosis = diagnose(inst, solve_options(options), result=result, progress=progress,
                             deadline=started + float(options.get("time_limit", SolveOptions().time_limit)))
        record["diagnosis"] = diagnosis.to_dict()
    record["seconds"] = time.perf_counter() - started
    say("writing the plan")

    def fill(tmp: Path) -> None:
        if result.has_plan:
            (tmp / OUT_FOLDER).mkdir()
            result_filler(result)(tmp / OUT_FOLDER)
            save_workbook(result_workbook_for(result), tmp / WORKBOOK_FILE)
        write_json(record, tmp / PLAN_FILE)

    write_folder_atomically(payload["folder"], fill, replaceable=None)
    return record


def _status(status) -> str:
    """The API's vocabulary: optimal, feasible, infeasible; anything else without a plan is an error."""
    text = str(status)
    return text if text in ("optimal", "feasible", "infeasible") else "error"


def rush(payload: dict, report) -> dict:
    """`prodbudget insert PATH --baseline DIR --product … --json`."""
    from solver.analysis.rush import RushOrder, evaluate_order
    from solver.io.baseline import load_baseline
    from solver.io.loading import load_instance

    options = payload["options"]
    started = time.perf_counter()
    report(phase="evaluating the order", elapsed=0.0)
    inst = load_instance(payload["instance"], scenario=options.get("scenario", "base"))
    baseline = load_baseline(payload["baseline"], inst)
    o = payload["order"]
    order = RushOrder(o["product"], float(o["quantity"]), str(o["due"]), o.get("price"), o.get("channel") or None)
    answer = evaluate_order(inst, baseline, order, mode=o.get("mode", "replan"), freeze=int(o.get("freeze", 1)),
                            change_penalty=o.get("change_penalty", _default_penalty()), options=solve_options(options),
                            protect=bool(o.get("protect", False)), verify=bool(o.get("verify", False)),
                            progress=_progress_to(report, started))
    return answer.to_json()


def _default_penalty() -> float:
    from solver.analysis.rush import DEFAULT_CHANGE_PENALTY

    return DEFAULT_CHANGE_PENALTY


def limits(payload: dict, report) -> dict:
    """`prodbudget solve --sensitivity --measure N`: the ranked limits, the top N measured by re-solving."""
    from solver.analysis.limits import measure_limits
    from solver.engine.pipeline import solve
    from solver.io.loading import load_instance

    started = time.perf_counter()
    progress = _progress_to(report, started)
    options = payload["options"]
    inst = load_instance(payload["instance"], scenario=options.get("scenario", "base"))
    result = solve(inst, solve_options(options, sensitivity=True), progress=progress)
    if not result.has_plan or result.sensitivity is None:
        raise ValueError(f"no plan to value limits against: {result.message}")
    seconds = measure_limits(result, solve_options(options), top=int(payload.get("measure", 8)), jobs=1,
                             progress=progress)
    lim = result.sensitivity.limits
    return {"objective": result.objective, "label": result.sensitivity.label, "seconds": seconds,
            "currency": inst.currency, "limits": lim.to_dict("records")}


def sweep(payload: dict, report) -> dict:
    """`prodbudget sweep PATH --param P --from A --to B --steps N`."""
    from solver.analysis.parametric import Parameter, sweep_values
    from solver.analysis.parametric import sweep as run_sweep
    from solver.io.loading import load_instance

    options = payload["options"]
    scenario = options.get("scenario", "base")
    inst = load_instance(payload["instance"], scenario=scenario)
    param = Parameter.parse(payload["parameter"])
    values = sweep_values(inst, param, payload.get("start", "-30%"), payload.get("stop", "+30%"), int(payload.get("steps", 7)))
    started = time.perf_counter()
    report(phase="sweeping", done=0, total=len(values), elapsed=0.0)
    df = run_sweep(payload["instance"], str(param), values, solve_options(options), scenario=scenario, jobs=1,
                   progress=_progress_to(report, started))
    return {"parameter": str(param), "currency": inst.currency, "points": df.to_dict("records")}


def diagnosis(payload: dict, report) -> dict:
    """`prodbudget diagnose PATH --json`."""
    from solver.analysis.diagnosis import diagnose
    from solver.io.loading import load_instance

    started = time.perf_counter()
    options = payload["options"]
    inst = load_instance(payload["instance"], scenario=options.get("scenario", "base"))
    limit = float(options.get("time_limit", SolveOptions().time_limit))
    d = diagnose(inst, solve_options(options), weights=payload.get("weights") or None, never=payload.get("never", ()),
                 progress=_progress_to(report, started), deadline=started + limit)
    return d.to_dict()


def scenarios(payload: dict, report) -> dict:
    """`prodbudget compare PATH --scenarios … [--robust --commit N]`: each scenario's own plan,
    with `robust` the plan of periods 1..N shared by all, its commit plan and what committing
    to the reference scenario's own plan instead earns (the value of the stochastic solution).
    Scenarios as `compare --scenarios` takes them (`NAME`, or `NAME=F` scaling the plan's scenario);
    none: every scenario of demand.csv."""
    from solver.analysis.scenarios import (
        commit_plan,
        compare_scenarios,
        compared_weights,
        load_compared,
        robust_has_plan,
        scenario_specs,
    )

    path, options = payload["instance"], payload["options"]
    started = time.perf_counter()
    _say(report, started)("loading the scenarios")
    specs = scenario_specs(path, ",".join(payload.get("scenarios") or []), where=REQUEST_SCENARIOS)
    instances = load_compared(path, specs, options.get("scenario", "base"), where=REQUEST_SCENARIOS)
    weights = compared_weights(path, specs, where=REQUEST_SCENARIOS)
    commit = int(payload.get("commit") or 1) if payload.get("robust") else None
    comp = compare_scenarios(instances, weights, solve_options(options), commit, progress=_progress_to(report, started))
    rows = comp.rows()
    own = rows["profit"]
    answer = {"scenarios": comp.scenarios, "weights": comp.weights, "currency": comp.currency,
              "scaled": {name: f for name, f in specs if f is not None}, "reference": comp.reference,
              "rows": rows.to_dict("records"), "table": comp.table().to_dict("records"),
              "wait_and_see": float((rows["weight"] * own).sum()) if own.notna().all() else None,
              "robust": comp.robust is not None, "commit": comp.commit or None, "seconds": comp.seconds}
    if comp.robust is not None:
        answer |= {"robust_status": comp.robust_status, "robust_message": comp.robust_message,
                   "expected_profit": comp.expected_profit,
                   "commit_plan": commit_plan(comp.robust[comp.scenarios[0]], comp.commit).to_dict("records")
                   if robust_has_plan(comp) else []}
        if comp.committed is not None:
            answer |= {"committed_expected_profit": comp.committed.expected_profit,
                       "committed_infeasible": comp.committed.infeasible,
                       "value_of_stochastic_solution": comp.value_of_stochastic_solution}
    return answer


TASKS = {"plan": plan, "rush": rush, "limits": limits, "sweep": sweep, "diagnosis": diagnosis, "scenarios": scenarios}
