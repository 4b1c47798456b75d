"""Output folders written whole or not at all.

Everything goes to a temporary sibling folder first and is moved into place in one rename, so
an interrupted run (Ctrl-C, a crash) never leaves a half-written plan behind, and re-running
into an existing folder replaces it whole (only with `force`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


class OutputExistsError(FileExistsError):
    """The output folder exists and `force` was not given."""


def write_folder_atomically(out_dir: str | Path, fill: Callable[[Path], None], force: bool = False) -> Path:
    """Create `out_dir` by calling `fill(tmp)` on a temporary folder, then renaming it."""
    out = Path(out_dir)
    if out.exists() and not force:
        raise OutputExistsError(f"{out} exists; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        fill(tmp)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def to_jsonable(value):
    """Numbers, NaN and inf as JSON can carry them (NaN/inf -> null)."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def write_result(result, out_dir: str | Path, force: bool = False, extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """`DIR/<table>.csv` for every plan table, `DIR/summary.json`, sensitivity tables if any."""

    def fill(tmp: Path) -> None:
        for name, df in result.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        if result.sensitivity is not None:
            for name, df in result.sensitivity.tables().items():
                df.to_csv(tmp / f"{name}.csv", index=False)
        for name, df in (extra or {}).items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        summary = dict(result.kpis)
        inst = result.instance
        if inst is not None:
            summary["fingerprint"] = inst.fingerprint
            summary["periods"] = list(inst.periods)
        (tmp / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    return write_folder_atomically(out_dir, fill, force)
