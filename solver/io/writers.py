"""Outputs written whole or not at all, never where they would destroy something.

Every output (a plan folder, a workbook, a report page) is first written into a temporary
sibling named `.<name>.<pid>.<random>.tmp` and then moved into place in one rename, so an
interrupted run (Ctrl-C, SIGTERM, a full disk) never leaves a half-written output behind. The
steps:

1. `check_output`, before any work (a solve can take minutes): an output that is, holds or
   lies inside an input, the current folder or one of its parents, a file where a folder is
   wanted (or the reverse), an existing output without `--force`, and with `--force` a folder
   that is not recognisably an earlier output of ours (its `summary.json`, `answer.json` or
   `sweep.csv`) are all refused (`OutputError`, exit 2). A symbolic link is followed: the
   folder it points to is replaced and the link stays.
2. `stage_folder` / `stage_file` write the temporary sibling (folders get the permissions the
   umask gives, as `mkdir` would; a temporary folder alone would stay private, 0700).
3. `Staged.commit` moves it into place under an exclusive lock on the parent folder, so two
   runs racing on one `--out` end with one whole output and, for the loser, a message.
   `commit_all` commits several outputs of one run only once all of them are staged.

A failure to write (no space left, no permission) raises `WriteError` (exit 1: no plan was
delivered); nothing of the output is left. Temporary siblings of runs that died (their process
is gone) are swept when a later run writes into the same folder.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# files by which a folder is recognisably an earlier output of ours, and may be replaced with --force
OUTPUT_MARKERS = ("summary.json", "answer.json", "sweep.csv")
# temporary siblings of this module: .<name>.<pid>.<mkdtemp's 8 characters>.tmp|old[.<suffix>]
_OURS = re.compile(r"^\..+\.(?P<pid>\d+)\.[a-z0-9_]{8}\.(tmp|old)(\.[A-Za-z0-9]{1,8})?$")
# what earlier versions left: kept only until they are this old (their writer is surely gone)
STALE_SECONDS = 24 * 3600


class OutputError(Exception):
    """An output refused before anything was written (exit 2): it would replace or mix with an
    input or something that is not ours."""


class OutputExistsError(OutputError, FileExistsError):
    """The output exists and `force` was not given."""


class WriteError(Exception):
    """Writing an output failed (disk full, no permission, …); nothing of it was left (exit 1)."""

    def __init__(self, path: Path, err: OSError):
        self.path, self.err = path, err
        reason = err.strerror or str(err)
        super().__init__(f"could not write {path}: {reason}; nothing was written there")


# --------------------------------------------------------------------------- checks before any work


def is_earlier_output(folder: Path) -> bool:
    """A folder a planning command wrote (summary.json, answer.json or sweep.csv; not an
    instance), or an empty one: replacing it loses nothing of the user's."""
    if not folder.is_dir():
        return False
    if (folder / "instance.toml").exists():
        return False
    return any((folder / m).is_file() for m in OUTPUT_MARKERS) or not any(folder.iterdir())


def is_instance_folder(folder: Path) -> bool:
    """A folder `convert` may replace with --force: an instance folder (instance.toml), or empty."""
    return folder.is_dir() and ((folder / "instance.toml").is_file() or not any(folder.iterdir()))


def real_path(path: str | Path) -> Path:
    """The absolute path with symbolic links followed (the place that would be written)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output(path: str | Path, *, inputs: Iterable[str | Path | None] = (), force: bool = False,
                 folder: bool = True, replaceable: Callable[[Path], bool] = is_earlier_output,
                 recognised_by: str = " / ".join(OUTPUT_MARKERS), option: str = "--out") -> Path:
    """Refuse an output that would destroy or mix with something (see the module docstring);
    return the real path that will be written. Call it before any long work. `replaceable`
    says which existing folder --force may replace, `recognised_by` names it in the refusal."""
    given = Path(path)
    if given.is_symlink() and not given.exists():
        raise OutputError(f"{option} {given} is a symbolic link to nothing ({os.readlink(given)})")
    real = real_path(given)
    for raw in inputs:
        if raw is None:
            continue
        src = real_path(raw)
        if real == src:
            raise OutputError(f"{option} {given} is the input {raw}: inputs are never overwritten")
        if _within(src, real):
            raise OutputError(f"{option} {given} holds the input {raw}: inputs are never overwritten")
        if _within(real, src):
            raise OutputError(f"{option} {given} lies inside the input folder {raw}: write outputs elsewhere")
    cwd = real_path(Path.cwd())
    if _within(cwd, real):
        raise OutputError(f"{option} {given} is the current folder or holds it: name a folder of its own")
    if real.exists() or real.is_symlink():
        if folder and not real.is_dir():
            raise OutputError(f"{option} {given} exists and is not a folder")
        if not folder and not real.is_file():
            raise OutputError(f"{option} {given} exists and is not a file")
        if not force:
            raise OutputExistsError(f"{given} exists; use --force to replace it")
        if folder and not replaceable(real):
            raise OutputError(f"{option} {given} is a folder prodbudget did not write (no {recognised_by}): "
                              "not replaced, even with --force; name another folder or remove it yourself")
    parent = real.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {given}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {given}: no permission to write in {parent}")
    return real


def check_outputs(outputs: Sequence[tuple[str | Path | None, str, bool]], **kw) -> None:
    """`check_output` for each (path, option, is_folder) given, and no two outputs the same."""
    seen: dict[Path, str] = {}
    for path, option, folder in outputs:
        if path is None:
            continue
        real = check_output(path, option=option, folder=folder, **kw)
        for other, other_option in seen.items():
            if _within(real, other) or _within(other, real):
                raise OutputError(f"{option} {path} and {other_option} would write the same place")
        seen[real] = f"{option} {path}"


# --------------------------------------------------------------------------- temporary siblings


def _umask() -> int:
    """The process umask, read without changing it where the system says it (Linux)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _legacy_stale(entry: Path, name: str) -> bool:
    """A temporary sibling of `name` in an earlier version's naming, a day old."""
    n = re.escape(name)
    if not re.match(rf"^\.{n}\.([a-z0-9_]{{8}}\.tmp(\.xlsx)?|tmp-[a-z0-9_]{{8}}|old-[a-z0-9_]+)$", entry.name):
        return False
    with contextlib.suppress(OSError):
        return time.time() - entry.lstat().st_mtime > STALE_SECONDS
    return False


def sweep_stale(parent: Path, name: str | None = None) -> list[Path]:
    """Remove temporary siblings in `parent` left by runs that died: ours by name, and either
    their process is gone or they are a day old. Returns what was removed."""
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _OURS.match(entry.name)
        if m:
            pid = int(m["pid"])
            try:
                old = time.time() - entry.lstat().st_mtime > STALE_SECONDS
            except OSError:
                continue
            if pid == os.getpid() or (_pid_alive(pid) and not old):
                continue
        elif name is None or not _legacy_stale(entry, name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock on `folder` itself (no lock file), where the system has flock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _sibling(out: Path, kind: str, suffix: str = "") -> tuple[str, str]:
    """(prefix, suffix) of a temporary sibling of `out`: `.<name>.<pid>.` … `.<kind><suffix>`."""
    return f".{out.name}.{os.getpid()}.", f".{kind}{suffix}"


class Staged:
    """An output written into its temporary sibling, waiting to be moved into place."""

    def __init__(self, out: Path, tmp: Path, force: bool, replaceable: Callable[[Path], bool] | None):
        self.out, self.tmp, self.force, self.replaceable = out, tmp, force, replaceable
        self.done = False

    def commit(self) -> Path:
        """Move the output into place (replacing an earlier one with `force`), under a lock."""
        out, tmp = self.out, self.tmp
        try:
            with _locked(out.parent):
                if out.exists() or out.is_symlink():
                    if not self.force:
                        raise OutputExistsError(f"{out} was written by another run meanwhile; use --force to replace it")
                    if self.replaceable is not None and not self.replaceable(out):
                        raise OutputError(f"{out} is not an output of prodbudget: not replaced")
                    if tmp.is_dir():
                        prefix, suffix = _sibling(out, "old")
                        old = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=out.parent))
                        os.rmdir(old)
                        os.rename(out, old)
                        try:
                            os.rename(tmp, out)
                        except BaseException:
                            os.rename(old, out)
                            raise
                        shutil.rmtree(old, ignore_errors=True)  # a leftover is swept by a later run
                    else:
                        os.replace(tmp, out)
                else:
                    os.rename(tmp, out)
        except OutputError:
            self.discard()
            raise
        except OSError as err:
            self.discard()
            raise WriteError(out, err) from err
        except BaseException:
            self.discard()
            raise
        self.done = True
        return out

    def discard(self) -> None:
        """Remove the temporary sibling (nothing of this output is left)."""
        if self.tmp.is_dir() and not self.tmp.is_symlink():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                self.tmp.unlink()


def _prepare(out_path: str | Path) -> Path:
    out = real_path(out_path)
    if out.name in ("", ".", ".."):
        raise OutputError(f"{out_path} names no folder or file of its own")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(out, err) from err
    sweep_stale(out.parent, out.name)
    return out


def stage_folder(out_dir: str | Path, fill: Callable[[Path], None], force: bool = False,
                 replaceable: Callable[[Path], bool] | None = is_earlier_output) -> Staged:
    """Write a folder by calling `fill(tmp)` on its temporary sibling; `commit()` moves it in place."""
    out = _prepare(out_dir)
    if (out.exists() or out.is_symlink()) and not force:
        raise OutputExistsError(f"{out_dir} exists; use --force to replace it")
    tmp = None
    try:
        prefix, suffix = _sibling(out, "tmp")
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=out.parent))
        fill(tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; an output folder is an ordinary folder
    except OSError as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OutputError):
            raise
        raise WriteError(out, err) from err
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Staged(out, tmp, force, replaceable)


def stage_file(path: str | Path, write: Callable[[Path], None], force: bool = False) -> Staged:
    """Write a file by calling `write(tmp)` on its temporary sibling; `commit()` moves it in place."""
    out = _prepare(path)
    if (out.exists() or out.is_symlink()) and not force:
        raise OutputExistsError(f"{path} exists; use --force to replace it")
    if out.is_dir():
        raise OutputError(f"{path} is a folder, not a file")
    tmp = None
    try:
        prefix, suffix = _sibling(out, "tmp", out.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", out.suffix) else "")
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=out.parent)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; an output is an ordinary file
    except OSError as err:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(err, OutputError):
            raise
        raise WriteError(out, err) from err
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    return Staged(out, tmp, force, None)


def commit_all(staged: Sequence[Staged]) -> list[Path]:
    """Move several staged outputs of one run into place, in order; if one fails, the ones not
    yet moved are discarded (and the error raised)."""
    done = []
    try:
        for s in staged:
            done.append(s.commit())
    finally:
        for s in staged:
            if not s.done:
                s.discard()
    return done


def write_folder_atomically(out_dir: str | Path, fill: Callable[[Path], None], force: bool = False,
                            replaceable: Callable[[Path], bool] | None = is_earlier_output) -> Path:
    """Create `out_dir` by calling `fill(tmp)` on a temporary sibling, then renaming it."""
    return stage_folder(out_dir, fill, force, replaceable).commit()


def write_file_atomically(path: str | Path, write: Callable[[Path], None], force: bool = True) -> Path:
    """Create or replace the file `path` by calling `write(tmp)` on a temporary sibling."""
    return stage_file(path, write, force).commit()


# --------------------------------------------------------------------------- names and cells


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{k}" for k in range(1, 10)), *(f"lpt{k}" for k in range(1, 10))}


def safe_file_names(names: Iterable[str]) -> dict[str, str]:
    """A file or folder name for each name from the data, safe and unique on any system.

    A name from the data never forms a path by itself (`../../x`, `/tmp/x`, `..`, `a/b`): names
    that are already plain (letters, digits, `_`, `-`, `.`; not starting with `.`; at most 64
    characters; not a Windows device name) stay as they are; any other name becomes its plain
    characters plus a short digest of the name, so two names never share a file (also not on a
    case-insensitive disk). Deterministic: the same names give the same files. Keep the real
    names inside the files (an index), as a reader cannot always undo the mapping."""
    import hashlib

    out: dict[str, str] = {}
    used: set[str] = set()
    for name in dict.fromkeys(str(n) for n in names):
        plain = re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).lstrip("._")[:48] or "unnamed"
        ok = (plain == name and len(name) <= 64 and name.split(".")[0].lower() not in _WINDOWS_RESERVED
              and name.casefold() not in used)
        if not ok:
            plain = f"{plain}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"
        k = 2
        candidate = plain
        while candidate.casefold() in used:
            candidate, k = f"{plain}-{k}", k + 1
        used.add(candidate.casefold())
        out[name] = candidate
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+cmd`, `-1+1`, `@x`,
    a leading tab or CR) prefixed with `'`, which spreadsheets read as "text follows"; numbers and
    other cells as they are. For CSV files meant to be opened in Excel (`--csv-safe`)."""
    out = df.copy()
    out.columns = [("'" + c) if isinstance(c, str) and c.startswith(FORMULA_START) else c for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [("'" + v) if isinstance(v, str) and v.startswith(FORMULA_START) else v for v in out[col]]
    return out


def write_csv(df: pd.DataFrame, path: Path, csv_safe: bool = False) -> None:
    """One table as CSV (UTF-8, no index); `csv_safe`: see `spreadsheet_safe`."""
    (spreadsheet_safe(df) if csv_safe else df).to_csv(path, index=False)


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


def write_json(data, path: Path) -> None:
    """`data` as indented UTF-8 JSON (NaN/inf as null)."""
    path.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def result_filler(result, extra: dict[str, pd.DataFrame] | None = None, csv_safe: bool = False) -> Callable[[Path], None]:
    """The `fill` of a plan folder: `<table>.csv` for every plan table, sensitivity tables if
    any, `extra` tables, and `summary.json` (KPIs, fingerprint, periods)."""

    def fill(tmp: Path) -> None:
        for name, df in result.tables.items():
            write_csv(df, tmp / f"{name}.csv", csv_safe)
        if result.sensitivity is not None:
            for name, df in result.sensitivity.tables().items():
                write_csv(df, tmp / f"{name}.csv", csv_safe)
        for name, df in (extra or {}).items():
            write_csv(df, tmp / f"{name}.csv", csv_safe)
        summary = dict(result.kpis)
        inst = result.instance
        if inst is not None:
            summary["fingerprint"] = inst.fingerprint
            summary["periods"] = list(inst.periods)
        if csv_safe:
            summary["csv_safe"] = True
        write_json(summary, tmp / "summary.json")

    return fill


def write_result(result, out_dir: str | Path, force: bool = False, extra: dict[str, pd.DataFrame] | None = None,
                 csv_safe: bool = False) -> Path:
    """`DIR/<table>.csv` for every plan table, `DIR/summary.json`, sensitivity tables if any."""
    return write_folder_atomically(out_dir, result_filler(result, extra, csv_safe), force)

