"""The HTTP app of `prodbudget serve`: the JSON API (OpenAPI at /docs and /openapi.json) and
the planner's pages. HTTP and wiring only: every question goes to the library, the long ones
through the job queue (solver/web/jobs.py) to a worker process (solver/web/tasks.py).
"""

from __future__ import annotations

import contextlib
import hmac
import math
import time
import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from solver.engine.options import SolveOptions
from solver.io.problems import InputError
from solver.io.writers import to_jsonable
from solver.present.report import read_output
from solver.web import tasks
from solver.web.jobs import CANCELLED, DONE, FAILED, QUEUED, JobQueue, QueueFull
from solver.web.workspace import NotFound, Refused, Workspace, check_id

MAX_UPLOAD_MB = 20.0
PLAN_TABLES = ("production", "purchases", "inventory", "sales", "capacity", "budget", "cash", "pnl", "balances",
               "limits", "sensitivity_constraints", "sensitivity_variables")
ZIP_MAGIC = b"PK\x03\x04"


# --------------------------------------------------------------------------- request documents


class SolveSettings(BaseModel):
    """Solver options, as `prodbudget solve` takes them (same defaults and ranges)."""

    model_config = ConfigDict(extra="forbid")
    time_limit: float = Field(SolveOptions().time_limit, gt=0, le=86400, description="seconds for the MIP")
    gap: float = Field(SolveOptions().gap, ge=0, le=1, description="relative MIP gap counted as optimal")
    threads: int = Field(SolveOptions().threads, ge=1, le=64)
    seed: int = Field(SolveOptions().seed, ge=0, le=2_147_483_647)
    scenario: str = Field("base", max_length=200, description="demand scenario to plan")
    formulation: Literal["bigm", "ls", "fl"] = SolveOptions().formulation
    strategy: Literal["auto", "mip", "relax-and-fix"] = SolveOptions().strategy


Change = float | str


class PlanRequest(BaseModel):
    """A plan of an instance under ROOT (`instance`), of a kept version (`version`) or of
    another plan's version (`plan`), with `changes`: parameter -> new value (a number) or a
    relative change ("+10%"); parameters as `prodbudget sweep --param` names them."""

    model_config = ConfigDict(extra="forbid")
    instance: str | None = Field(None, max_length=1000)
    version: str | None = Field(None, max_length=64)
    plan: str | None = Field(None, max_length=64)
    options: SolveSettings = SolveSettings()
    changes: dict[str, Change] = Field(default_factory=dict, max_length=200)
    label: str = Field("", max_length=200, description="a name for this version, shown in the pages")


class RushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str = Field(max_length=500)
    quantity: float = Field(gt=0, allow_inf_nan=False)
    due: str = Field(max_length=100)
    channel: str | None = Field(None, max_length=500)
    price: float | None = Field(None, ge=0, allow_inf_nan=False)
    mode: Literal["replan", "reserve"] = "replan"
    freeze: int = Field(1, ge=0, le=1000)
    protect: bool = False
    verify: bool = False
    time_limit: float = Field(60.0, gt=0, le=86400, description="seconds per run (an answer takes 3-8 runs)")


class LimitsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: int = Field(8, ge=0, le=50, description="limits whose value is measured by re-solving")


class SweepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameter: str = Field(max_length=1000)
    start: str = Field("-30%", max_length=50)
    stop: str = Field("+30%", max_length=50)
    steps: int = Field(7, ge=2, le=50)


class DiagnosisRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=dict)
    never: list[str] = Field(default_factory=list)


class ScenariosRequest(BaseModel):
    """Scenarios as `prodbudget compare --scenarios` names them: a scenario of demand.csv, or
    `NAME=F`, the plan's scenario's demand with every quantity × F; none: all of demand.csv's."""

    model_config = ConfigDict(extra="forbid")
    scenarios: list[str] = Field(default_factory=list, max_length=50)
    robust: bool = False
    commit: int = Field(1, ge=1, le=1000, description="with robust: periods 1..commit shared by every scenario")
    time_limit: float | None = Field(None, gt=0, le=86400, description="seconds per solve (default: the plan's)")


# --------------------------------------------------------------------------- the app


class Server:
    """The workspace, the job queue and what binds them: plan records as jobs end."""

    def __init__(self, ws: Workspace, workers: int, max_queued: int):
        self.ws = ws
        self.queue = JobQueue(tasks.run, workers=workers, max_queued=max_queued, on_finish=self._ended)
        self.plans: dict[str, dict] = {}  # plan id -> its record while its job lives

    def _ended(self, job) -> None:
        if job.kind != "plan" or job.status == DONE:
            return
        record = {**job.payload["record"], "kpis": {}, "status": "cancelled" if job.status == CANCELLED else "error",
                  "message": job.error, "problems": job.problems, "progress": job.progress,
                  "history": job.history, "seconds": (job.finished or time.time()) - (job.started or job.created)}
        self.ws.record_ended(record)

    def plan_view(self, pid: str) -> dict:
        """What GET /api/plans/{id} answers, for a live job or a plan on disk."""
        check_id(pid, "plan")
        job = self.queue.get(pid)
        if job is not None and job.active:
            return {**job.payload["record"], "status": job.status, "progress": job.progress,
                    "history": job.history, "kpis": {}, "message": job.error or ""}
        record = self.ws.plan_record(pid)
        if record is None:
            if job is not None:  # ended, its record not written yet (a moment)
                return {**job.payload["record"], "status": "error" if job.status == FAILED else job.status,
                        "progress": job.progress, "history": job.history, "kpis": {}, "message": job.error}
            raise NotFound(f"no plan {pid!r}")
        if job is not None and "history" not in record:
            record["history"] = job.history
        record.setdefault("progress", (record.get("history") or [{}])[-1] if record.get("history") else {})
        return record

    def recent_plans(self, limit: int = 1000) -> list[dict]:
        """Plans, newest first: those running or waiting, then those kept in the workspace."""
        live = [self.plan_view(j.id) for j in list(self.queue.jobs.values()) if j.kind == "plan" and j.active]
        ids = {p["id"] for p in live}
        rows = live + [p for p in self.ws.plans() if p["id"] not in ids]
        return [_summary(p) for p in sorted(rows, key=lambda r: r.get("created", 0), reverse=True)[:limit]]

    def submit_plan(self, version: str, options: SolveSettings, label: str = "") -> dict:
        pid = uuid.uuid4().hex[:12]
        meta = self.ws.version(version)
        record = {"id": pid, "version": version, "instance": meta["source"], "changes": meta.get("changes", {}),
                  "history_changes": meta.get("history", []), "parent_version": meta.get("parent"),
                  "options": options.model_dump(), "label": label, "created": time.time()}
        payload = {"instance": str(self.ws.instance_path(version)), "folder": str(self.ws.plan_dir(pid)),
                   "options": options.model_dump(), "record": record}
        self.queue.submit("plan", payload, job_id=pid)
        return record


def _problems_response(problems: list[dict], message: str = "the input has problems") -> JSONResponse:
    return JSONResponse({"detail": message, "problems": problems}, status_code=422)


def create_app(root: str | Path, workspace: str | Path | None = None, token: str | None = None,
               workers: int = 2, max_queued: int = 16, max_upload_mb: float = MAX_UPLOAD_MB) -> FastAPI:
    """The ASGI app over the instances under `root`; `token`, when given, is required on every
    request (header `Authorization: Bearer T`, or `?token=T` once, which sets a cookie)."""
    ws = Workspace.open(root, workspace)
    server = Server(ws, workers, max_queued)
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        server.queue.close()  # waiting jobs dropped, running ones stopped

    app = FastAPI(lifespan=lifespan, title="prodbudget", version="1", summary="Production-budget planning: plans, limits, rush orders, sweeps, scenarios.",
                  description="The HTTP API of `prodbudget serve`. See the README's *HTTP API* section.")
    app.state.server = server
    app.state.max_upload = int(max_upload_mb * 1024 * 1024)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
                or request.cookies.get("prodbudget_token", "") or request.query_params.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"detail": "a valid token is required (Authorization: Bearer T, or ?token=T)"},
                                    status_code=401)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > app.state.max_upload + 1024 * 1024:
            return JSONResponse({"detail": f"request too large: at most {max_upload_mb:g} MB"}, status_code=413)
        response = await call_next(request)
        if token and request.query_params.get("token"):
            response.set_cookie("prodbudget_token", token, httponly=True, samesite="strict")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(NotFound)
    async def not_found(_request, err):
        return JSONResponse({"detail": str(err)}, status_code=404)

    @app.exception_handler(Refused)
    async def refused(_request, err):
        return JSONResponse({"detail": str(err)}, status_code=400)

    @app.exception_handler(QueueFull)
    async def queue_full(_request, err):
        return JSONResponse({"detail": str(err), "queue": server.queue.counts()}, status_code=429,
                            headers={"Retry-After": "10"})

    @app.exception_handler(InputError)
    async def input_error(_request, err):
        return _problems_response([tasks.problem_dict(p) for p in err.problems])

    # ------------------------------------------------------------------ API

    @app.get("/api/health", tags=["server"])
    def health() -> dict:
        """The server is up; how busy its workers are."""
        return {"status": "ok", "queue": server.queue.counts()}

    @app.get("/api/instances", tags=["instances"])
    def instances() -> list[dict]:
        """Instance folders and workbooks under ROOT, by name relative to ROOT."""
        return ws.instances()

    @app.get("/api/instances/{name:path}/problems", tags=["instances"])
    def instance_problems(name: str, scenario: str = "base") -> dict:
        """Every error and warning of the instance, by file or sheet, row and column."""
        from solver.io.loading import validate

        path, _kind = ws.source(name)
        problems = [tasks.problem_dict(p) for p in validate(path, scenario=scenario)]
        return {"name": name, "valid": not any(p["severity"] == "error" for p in problems), "problems": problems}

    @app.post("/api/plans", tags=["plans"], status_code=202)
    async def create_plan(request: Request) -> dict:
        """Start a plan: JSON (`PlanRequest`), or a multipart upload of a workbook (field
        `file`, optional fields `options` and `changes` as JSON). Answers `{"id", "version"}`
        at once; the solve runs in a worker. 422: input problems (by file/sheet, row, column)
        or changes that do not apply; 429: the queue is full."""
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=10)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise HTTPException(422, "the upload needs a field 'file' holding an .xlsx workbook")
            data = await upload.read(app.state.max_upload + 1)
            if len(data) > app.state.max_upload:
                raise HTTPException(413, f"the workbook is larger than {max_upload_mb:g} MB")
            name = upload.filename or ""
            if not name.lower().endswith((".xlsx", ".xlsm")) or not data.startswith(ZIP_MAGIC):
                raise HTTPException(415, "only .xlsx workbooks can be uploaded (an instance as one workbook: "
                                         "prodbudget template)")
            try:
                body = PlanRequest(options=SolveSettings.model_validate_json(form.get("options") or "{}"),
                                   changes=PlanRequest.model_validate_json(
                                       '{"changes": ' + (form.get("changes") or "{}") + "}").changes,
                                   label=str(form.get("label") or ""))
            except ValidationError as err:
                raise HTTPException(422, err.errors(include_url=False, include_context=False)) from None
            path, shown = ws.save_upload(data, name)
            base = await _in_thread(ws.import_workbook, path, shown)
        else:
            try:
                body = PlanRequest.model_validate(await request.json())
            except ValidationError as err:
                raise HTTPException(422, err.errors(include_url=False, include_context=False)) from None
            except ValueError:
                raise HTTPException(400, "the body is not JSON") from None
            given = [k for k in ("instance", "version", "plan") if getattr(body, k)]
            if len(given) != 1:
                raise HTTPException(422, "name exactly one of instance, version or plan")
            if body.instance:
                base = await _in_thread(ws.import_source, body.instance)
            elif body.version:
                ws.version(body.version)
                base = body.version
            else:
                base = server.plan_view(body.plan)["version"]
        version = await _in_thread(_apply_changes, ws, base, body.changes, body.options.scenario)
        record = server.submit_plan(version, body.options, body.label)
        return {"id": record["id"], "version": version, "status": QUEUED}

    @app.get("/api/plans", tags=["plans"])
    def list_plans(limit: int = Query(50, ge=1, le=1000)) -> list[dict]:
        """Plans, newest first: those running or waiting, then those kept in the workspace."""
        return server.recent_plans(limit)

    @app.get("/api/plans/{pid}", tags=["plans"])
    def get_plan(pid: str) -> dict:
        """Status (queued, running, optimal, feasible, infeasible, error, cancelled), progress
        (incumbent, bound, gap, seconds), KPIs (`objective` = profit), diagnosis if infeasible."""
        return to_jsonable(server.plan_view(pid))

    @app.post("/api/plans/{pid}/cancel", tags=["plans"])
    def cancel_plan(pid: str) -> dict:
        """Stop a plan that waits or runs; nothing of it is written but its record."""
        check_id(pid, "plan")
        if not server.queue.cancel(pid):
            raise HTTPException(409, "the plan is not running or waiting")
        return {"id": pid, "cancelled": True}

    @app.get("/api/plans/{pid}/tables", tags=["plans"])
    def plan_tables(pid: str) -> list[str]:
        out = ws.out_folder(pid)
        return [t for t in PLAN_TABLES if (out / f"{t}.csv").is_file()]

    @app.get("/api/plans/{pid}/tables/{table}", tags=["plans"])
    def plan_table(pid: str, table: str, format: Literal["json", "csv"] = "json"):
        """One plan table (README *Results*), as JSON records or as the CSV file."""
        if table not in PLAN_TABLES:
            raise HTTPException(404, f"no table {table!r}; tables: {', '.join(PLAN_TABLES)}")
        f = ws.out_folder(pid) / f"{table}.csv"
        if not f.is_file():
            raise HTTPException(404, f"this plan has no table {table!r}")
        if format == "csv":
            return FileResponse(f, media_type="text/csv; charset=utf-8", filename=f"{pid}-{table}.csv")
        return JSONResponse(to_jsonable(read_output(f.parent).table(table).to_dict("records")))

    @app.get("/api/plans/{pid}/workbook", tags=["plans"])
    def plan_workbook(pid: str):
        """The result workbook (.xlsx), as `prodbudget solve --xlsx` writes it."""
        f = ws.plan_dir(pid) / tasks.WORKBOOK_FILE
        if not f.is_file():
            raise HTTPException(404, "this plan has no result workbook (no plan was found, or it is not finished)")
        return FileResponse(f, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            filename=f"prodbudget-{pid}.xlsx")

    def analysis(pid: str, kind: str, payload: dict, wait: bool, options: dict | None = None):
        record = server.plan_view(pid)
        if record["status"] not in ("optimal", "feasible", "infeasible"):
            raise HTTPException(409, f"the plan is {record['status']}: ask again when it has finished")
        if kind in ("rush", "limits") and record["status"] == "infeasible":
            raise HTTPException(409, "the plan is infeasible: there is no plan to ask this of (see its diagnosis)")
        payload = {**payload, "instance": str(ws.instance_path(record["version"])),
                   "baseline": str(ws.plan_dir(pid) / tasks.OUT_FOLDER),
                   "options": {**record["options"], **(options or {})}}
        job = server.queue.submit(kind, payload)
        if not wait:
            return JSONResponse({"job": job.id, "status": job.status}, status_code=202)
        return _job_answer(server.queue.wait(job.id))

    @app.post("/api/plans/{pid}/rush", tags=["questions"])
    async def rush(pid: str, order: RushRequest, wait: bool = True):
        """A rush order (插单) against this plan: the same document as `prodbudget insert --json`
        (decision, capable-to-promise, earliest delivery, break-even price, orders cut, impact)."""
        o = order.model_dump()
        return await _in_thread(analysis, pid, "rush", {"order": o}, wait, {"time_limit": o.pop("time_limit")})

    @app.post("/api/plans/{pid}/limits", tags=["questions"])
    async def plan_limits(pid: str, req: Annotated[LimitsRequest | None, Body()] = None, wait: bool = True):
        """What limits the plan: binding limits ranked by what relaxing each by a step is
        worth, the top `measure` measured by re-solving (`solve --sensitivity --measure N`)."""
        return await _in_thread(analysis, pid, "limits", (req or LimitsRequest()).model_dump(), wait)

    @app.post("/api/plans/{pid}/sweep", tags=["questions"])
    async def plan_sweep(pid: str, req: SweepRequest, wait: bool = True):
        """Profit and service against one parameter, each point a re-solved plan (`prodbudget sweep`)."""
        return await _in_thread(analysis, pid, "sweep", req.model_dump(), wait)

    @app.post("/api/plans/{pid}/diagnosis", tags=["questions"])
    async def plan_diagnosis(pid: str, req: Annotated[DiagnosisRequest | None, Body()] = None, wait: bool = True):
        """Why no plan exists: the cheapest relaxations and the conflicting limits (`prodbudget diagnose --json`)."""
        return await _in_thread(analysis, pid, "diagnosis", (req or DiagnosisRequest()).model_dump(), wait)

    @app.post("/api/plans/{pid}/scenarios", tags=["questions"])
    async def plan_scenarios(pid: str, req: Annotated[ScenariosRequest | None, Body()] = None, wait: bool = True):
        """Demand scenarios side by side, optionally the robust plan, its commit plan and the
        value of the stochastic solution (`prodbudget compare --scenarios … --robust --commit N`)."""
        body = (req or ScenariosRequest()).model_dump()
        limit = body.pop("time_limit")
        return await _in_thread(analysis, pid, "scenarios", body, wait, {"time_limit": limit} if limit else None)

    @app.get("/api/jobs/{jid}", tags=["questions"])
    def get_job(jid: str):
        """A question asked with `?wait=false`: its status, progress and, once done, its answer."""
        job = server.queue.get(check_id(jid, "job"))
        if job is None:
            raise NotFound(f"no job {jid!r}")
        view = job.view()
        if job.status == DONE:
            view["answer"] = job.result
        return view

    @app.post("/api/jobs/{jid}/cancel", tags=["questions"])
    def cancel_job(jid: str) -> dict:
        if not server.queue.cancel(check_id(jid, "job")):
            raise HTTPException(409, "the job is not running or waiting")
        return {"id": jid, "cancelled": True}

    @app.get("/api/compare", tags=["plans"])
    def compare(a: str, b: str) -> dict:
        """Plan b against plan a: KPIs, production, purchases, sales, budget and cash differences (b − a)."""
        return to_jsonable({k: v.to_dict("records") for k, v in ws.compare(a, b).items()})

    from solver.web.pages import add_pages

    add_pages(app, server)
    return app


async def _in_thread(fn, *args):
    """Blocking work (files, waiting for a worker) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _apply_changes(ws: Workspace, base: str, changes: dict, scenario: str) -> str:
    """The version `base` with `changes` (parameter -> value or "±N%") written as a new one;
    `base` itself when there are none. Bad input or parameters: InputError (422)."""
    from solver.analysis.parametric import Parameter, ParameterError, apply_parameter, base_value
    from solver.io.loading import load_instance
    from solver.io.problems import Problem

    inst = load_instance(ws.instance_path(base), scenario=scenario)  # located problems -> 422
    if not changes:
        return base
    changed, problems = inst, []
    for text, value in changes.items():
        try:
            p = Parameter.parse(text)
            if isinstance(value, str):
                v = value.strip()
                if v.endswith("%"):
                    base_v = base_value(inst, p)
                    if not math.isfinite(base_v):
                        raise ParameterError(f"{p} is unlimited in this instance; give a value, not a percentage")
                    number = base_v * (1 + float(v[:-1]) / 100)
                else:
                    number = float(v)
            else:
                number = float(value)
            if not math.isfinite(number):
                raise ParameterError(f"{text}: {value!r} is not a finite number")
            changed = apply_parameter(changed, p, number)
        except (ParameterError, ValueError) as err:
            problems.append(Problem("changes", None, text, str(err), "a parameter of prodbudget sweep --param and a "
                                    "number or a relative change such as +10%"))
    if problems:
        raise InputError(problems)
    return ws.derive(base, changes, scenario, changed)


def _summary(p: dict) -> dict:
    keep = ("id", "status", "instance", "version", "label", "changes", "created", "message", "currency")
    out = {k: p.get(k) for k in keep}
    out["objective"] = (p.get("kpis") or {}).get("objective")
    out["progress"] = p.get("progress") or {}
    return to_jsonable(out)


def _job_answer(job):
    if job.status == DONE:
        return job.result
    if job.problems:
        return _problems_response(job.problems, job.error)
    status = 409 if job.status == CANCELLED else 422
    return JSONResponse({"detail": job.error or job.status, "job": job.id}, status_code=status)

