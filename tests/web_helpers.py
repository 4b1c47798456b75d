"""Shared by the web tests: a ROOT of tiny instances, waiting for plans, a server on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TINY = ("rush_basic", "budget_period_ceiling", "infeasible_budget", "scenarios_demand")


def make_root(root: Path, appliance: bool = False) -> Path:
    """ROOT with a few tiny instances (and the demo when asked), copied: the tests check that
    nothing under ROOT is ever written."""
    for name in TINY:
        shutil.copytree(REPO / "instances" / "tiny" / name, root / "tiny" / name)
    if appliance:
        shutil.copytree(REPO / "instances" / "appliance", root / "appliance")
    return root


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time (to prove nothing changed)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def wait_plan(client, pid: str, timeout: float = 300.0) -> dict:
    """Poll GET /api/plans/{id} until the plan has ended (bounded by `timeout`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        view = client.get(f"/api/plans/{pid}").json()
        if view["status"] not in ("queued", "running"):
            return view
        time.sleep(0.2)
    raise AssertionError(f"plan {pid} still {view['status']} after {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(root: Path, workspace: Path, *extra: str):
    """`prodbudget serve ROOT` in a subprocess on a free loopback port; yields (url, process)."""
    port = free_port()
    cmd = [sys.executable, "-m", "solver.cli", "serve", str(root), "--workspace", str(workspace),
           "--port", str(port), "--no-browser", *extra]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"the server did not start: {proc.stderr.read().decode()}")
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
