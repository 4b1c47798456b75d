"""The files of `prodbudget serve`: the instances under ROOT (read only) and the workspace,
where every version of an instance and every plan is kept.

    WORKSPACE/versions/<id>/instance/       the version as an instance folder (instance.toml + CSV)
    WORKSPACE/versions/<id>/version.json    where it came from: source name, parent version, changes
    WORKSPACE/plans/<id>/plan.json          status, options, KPIs, progress samples, diagnosis
    WORKSPACE/plans/<id>/out/               the plan as `prodbudget solve --out` writes it
    WORKSPACE/plans/<id>/result.xlsx        the result workbook
    WORKSPACE/uploads/<id>.xlsx             uploaded workbooks, as received

Every folder is written whole under a temporary hidden name and renamed into place
(solver/io/writers.py), so a server killed mid-write leaves no half version or plan; input
files under ROOT are never written. Names from a request never become paths by themselves:
an instance name must be one the scan of ROOT listed, ids must match ID_PATTERN, and every
path is checked to resolve (symbolic links followed) inside ROOT or the workspace.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from solver.io.schema import TABLES
from solver.io.writers import real_path, write_folder_atomically, write_json

_VERSION_LOCK = threading.Lock()  # one writer of versions at a time in this server
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SCAN_DEPTH = 4  # folders below ROOT searched for instances
CONFIG_FILE = "instance.toml"
INSTANCE_FILES = (CONFIG_FILE, *(t.file for t in TABLES))


class NotFound(LookupError):
    """No instance, version or plan of that name."""


class Refused(ValueError):
    """A name or file that is not allowed (outside ROOT, not an instance, too large, …)."""


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_id(text: str, what: str = "id") -> str:
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        raise NotFound(f"no {what} {text!r}")
    return text


@dataclass
class Workspace:
    root: Path
    folder: Path

    @classmethod
    def open(cls, root: str | Path, folder: str | Path | None = None) -> Workspace:
        root_path = real_path(root)
        if not root_path.is_dir():
            raise Refused(f"{root} is not a folder")
        ws = cls(root_path, real_path(folder) if folder else root_path / ".prodbudget-workspace")
        for sub in ("versions", "plans", "uploads"):
            (ws.folder / sub).mkdir(parents=True, exist_ok=True)
        return ws

    # ------------------------------------------------------------------ instances under ROOT

    def instances(self) -> list[dict]:
        """Instance folders (holding instance.toml) and workbooks under ROOT, by name (the path
        relative to ROOT, with /). Hidden folders, the workspace and links leading out of
        ROOT are skipped."""
        found: list[dict] = []

        def visit(folder: Path, depth: int) -> None:
            try:
                entries = sorted(folder.iterdir(), key=lambda p: p.name)
            except OSError:
                return
            if (folder / CONFIG_FILE).is_file() and folder != self.root:
                found.append(self._entry(folder, "folder"))
                return
            for entry in entries:
                if entry.name.startswith(".") or entry.name.startswith("~$"):
                    continue
                real = real_path(entry)
                if not _within(real, self.root) or _within(real, self.folder):
                    continue
                if real.is_dir() and depth < SCAN_DEPTH:
                    visit(entry, depth + 1)
                elif real.is_file() and entry.suffix.lower() in WORKBOOK_SUFFIXES:
                    found.append(self._entry(entry, "workbook"))

        if (self.root / CONFIG_FILE).is_file():
            found.append(self._entry(self.root, "folder", name="."))
        else:
            visit(self.root, 0)
        return found

    def _entry(self, path: Path, kind: str, name: str | None = None) -> dict:
        name = name or path.relative_to(self.root).as_posix()
        title = name
        if kind == "folder":
            with contextlib.suppress(OSError, ValueError):
                title = str(tomllib.loads((path / CONFIG_FILE).read_text("utf-8-sig")).get("name", name))
        return {"name": name, "kind": kind, "title": title}

    def source(self, name: str) -> tuple[Path, str]:
        """The path and kind of the instance called `name` (as `instances()` lists it)."""
        if not isinstance(name, str) or not name or "\0" in name or "\\" in name or name.startswith("/") \
                or any(part == ".." for part in name.split("/")):
            raise Refused(f"instance name {name!r} is not a name under ROOT")
        listed = {e["name"]: e["kind"] for e in self.instances()}
        if name not in listed:
            raise NotFound(f"no instance {name!r} under ROOT")
        path = real_path(self.root / name)
        if not _within(path, self.root):
            raise Refused(f"instance {name!r} lies outside ROOT")
        return path, listed[name]

    # ------------------------------------------------------------------ versions

    def version_dir(self, vid: str) -> Path:
        return self.folder / "versions" / check_id(vid, "version")

    def version(self, vid: str) -> dict:
        meta = self.version_dir(vid) / "version.json"
        if not meta.is_file():
            raise NotFound(f"no version {vid!r}")
        return json.loads(meta.read_text("utf-8"))

    def instance_path(self, vid: str) -> Path:
        return self.version_dir(vid) / "instance"

    def import_source(self, name: str) -> str:
        """The version holding the instance `name` as it is now (a copy of its files, or the
        workbook converted to a folder). The same content gives the same version."""
        path, kind = self.source(name)
        if kind == "workbook":
            return self.import_workbook(path, name)
        files: dict[str, bytes] = {}
        for file in INSTANCE_FILES:
            f = path / file
            if not (f.exists() or f.is_symlink()):
                continue
            if not _within(real_path(f), self.root) or not real_path(f).is_file():
                raise Refused(f"{name}/{file} leads outside ROOT or is not a file: not read")
            files[file] = f.read_bytes()
        vid = "v-" + _digest(b"folder", *(n.encode() + b"\0" + b for n, b in sorted(files.items())))

        def fill(tmp: Path) -> None:
            (tmp / "instance").mkdir()
            for file, data in files.items():
                (tmp / "instance" / file).write_bytes(data)

        return self._store_version(vid, fill, {"source": name, "parent": None, "changes": {}})

    def import_workbook(self, path: Path, name: str) -> str:
        """A workbook's version: the workbook converted to an instance folder (lossless,
        `prodbudget convert`); its problems, by sheet, row and column, raise InputError."""
        from solver.io.workbook import workbook_to_folder

        vid = "v-" + _digest(b"workbook", path.read_bytes())
        return self._store_version(vid, lambda tmp: workbook_to_folder(path, tmp / "instance"),
                                   {"source": name, "parent": None, "changes": {}})

    def derive(self, parent: str, changes: dict, scenario: str, instance) -> str:
        """The version `parent` with `changes` applied (`instance` is that changed Instance),
        written whole as a new instance folder; `[scenarios]` weights are kept."""
        from solver.io.instance_writer import write_instance

        meta = self.version(parent)
        body = json.dumps({"parent": parent, "changes": changes, "scenario": scenario}, sort_keys=True)
        vid = "v-" + _digest(b"derived", body.encode())
        extra = {}
        try:
            doc = tomllib.loads((self.instance_path(parent) / CONFIG_FILE).read_text("utf-8-sig"))
            if isinstance(doc.get("scenarios"), dict):
                extra["scenarios"] = doc["scenarios"]
        except (OSError, ValueError):
            pass
        return self._store_version(vid, lambda tmp: write_instance(instance, tmp / "instance", extra),
                                   {"source": meta["source"], "parent": parent, "changes": changes,
                                    "scenario": scenario, "history": [*meta.get("history", []),
                                                                      *([changes] if changes else [])]})

    def _store_version(self, vid: str, fill, meta: dict) -> str:
        """Write the version once: requests for the same one wait for the first writer."""
        with _VERSION_LOCK:
            return self._write_version(vid, fill, meta)

    def _write_version(self, vid: str, fill, meta: dict) -> str:
        if (self.version_dir(vid) / "version.json").is_file():
            return vid

        def whole(tmp: Path) -> None:
            fill(tmp)
            write_json({"id": vid, "created": time.time(), **meta}, tmp / "version.json")

        write_folder_atomically(self.version_dir(vid), whole, force=True,
                                replaceable=lambda p: not (p / "version.json").exists())
        return vid

    def save_upload(self, data: bytes, filename: str) -> tuple[Path, str]:
        """Keep an uploaded workbook as received; returns its path and its display name."""
        uid = "u-" + _digest(b"upload", data)
        path = self.folder / "uploads" / f"{uid}.xlsx"
        if not path.exists():
            from solver.io.writers import write_file_atomically

            write_file_atomically(path, lambda tmp: tmp.write_bytes(data))
        return path, f"upload: {Path(filename or 'workbook.xlsx').name}"

    # ------------------------------------------------------------------ plans

    def plan_dir(self, pid: str) -> Path:
        return self.folder / "plans" / check_id(pid, "plan")

    def plan_record(self, pid: str) -> dict | None:
        f = self.plan_dir(pid) / "plan.json"
        if not f.is_file():
            return None
        return json.loads(f.read_text("utf-8"))

    def plans(self) -> list[dict]:
        """Every plan written, newest first."""
        out = []
        for d in (self.folder / "plans").iterdir():
            if d.name.startswith(".") or not ID_PATTERN.fullmatch(d.name):
                continue
            rec = self.plan_record(d.name)
            if rec is not None:
                out.append(rec)
        return sorted(out, key=lambda r: r.get("created", 0), reverse=True)

    def out_folder(self, pid: str) -> Path:
        """The plan's tables folder (`prodbudget solve --out` format)."""
        out = self.plan_dir(pid) / "out"
        if not out.is_dir():
            if self.plan_record(pid) is None:
                raise NotFound(f"no plan {pid!r} (or it has not finished)")
            raise NotFound(f"plan {pid!r} has no tables (no plan was found)")
        return out

    def compare(self, a: str, b: str) -> dict:
        """Plan b against plan a (solver.analysis.comparison.compare_plans), read from their folders."""
        from solver.analysis.comparison import compare_plans
        from solver.present.report import read_output

        oa, ob = read_output(self.out_folder(a)), read_output(self.out_folder(b))
        return compare_plans(oa.tables, oa.kpis, ob.tables, ob.kpis, ob.periods or oa.periods)

    def record_ended(self, record: dict) -> None:
        """A plan that ended without a solve's own record (cancelled, refused input, worker
        failure): its plan.json alone, so that it is listed and reopened like the others."""
        folder = self.plan_dir(record["id"])
        if folder.exists():
            return
        write_folder_atomically(folder, lambda tmp: write_json(record, tmp / "plan.json"), replaceable=None)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
        h.update(b"\0")
    return h.hexdigest()[:12]

