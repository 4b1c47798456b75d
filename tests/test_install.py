"""A normal (non-editable) install works: the wheel carries every subpackage, and the installed
`prodbudget` runs from outside the checkout.

Builds the wheel from a copy of the sources (so the checkout gets no build/ or egg-info
folder), installs it with `pip --no-index --no-deps` into a fresh virtual environment, and
borrows the dependencies from the project's own environment through a `.pth` path line (read
after the fresh environment's own site-packages, so the wheel's `solver` is the one imported;
nested .pth files there, such as the editable install's finder, are not executed). Nothing is
downloaded; ~20 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("solver", "formulations")
SOURCES = ("pyproject.toml", "README.md", *PACKAGES)


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
          "--wheel-dir", str(dist), str(src)], cwd=tmp)
    (wheel,) = dist.glob("prodbudget-*.whl")
    return wheel


def _source_packages() -> set[str]:
    """Every package of the source tree, as dotted names (solver, solver.cli, ...)."""
    return {".".join(init.parent.relative_to(ROOT).parts)
            for top in PACKAGES for init in (ROOT / top).rglob("__init__.py")}


def _fresh_env(tmp: Path, wheel: Path) -> tuple[Path, dict[str, str]]:
    env_dir = tmp / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp)
    own = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (own / "zz_project_dependencies.pth").write_text("".join(f"{d}\n" for d in deps), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env_dir, env


@pytest.mark.install
@pytest.mark.solver
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = {".".join(Path(n).parent.parts) for n in zf.namelist() if n.endswith("/__init__.py")}
    assert _source_packages() <= in_wheel, f"missing from the wheel: {sorted(_source_packages() - in_wheel)}"
    assert not any(p.split(".")[0] in ("tests", "benchmarks", "instances") for p in in_wheel)

    env_dir, env = _fresh_env(tmp_path, wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(env_dir / "bin" / "python"), "-c", "import solver.cli, solver; print(solver.__file__)"],
                 cwd=work, env=env).stdout.strip()
    assert Path(where).is_relative_to(env_dir), f"solver imported from {where}, not from the fresh install"

    prodbudget = str(env_dir / "bin" / "prodbudget")
    helped = _run([prodbudget, "--help"], cwd=work, env=env).stdout
    assert "solve" in helped and "validate" in helped

    # min_lot: one lot of 10 at unit cost 1 for demand 4 at price 20, 6 held at 1: 80 - 10 - 6 = 64
    shutil.copytree(ROOT / "instances" / "tiny" / "min_lot", work / "min_lot")
    _run([prodbudget, "solve", "min_lot", "--out", "plan"], cwd=work, env=env)
    summary = json.loads((work / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(64.0)
