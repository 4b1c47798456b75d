"""Importers for classic lot-sizing benchmarks (the literature data folder's README describes the formats).

The published optima of these sets are a check of the whole chain (format, loader, model,
solver): converted exactly as the literature README says, each instance is a pure
cost-minimisation special case of docs/model.md (prices 0, service = must, no initial stock,
production cost 0), so the solver's objective must equal −(published total cost).

Conventions of the conversion (documented here because they are choices):

- Demand rows with quantity 0 are kept: the instance then mirrors the file one-to-one, and a
  must-serve of 0 costs nothing.
- Setup costs are cash outflows in docs/model.md; the classic models have no cash. Initial cash
  is set to T × Σ setup_cost (every setup in every period paid), so cash never binds. No
  budget ceilings are written (no line, pool = inf by default).
- Period labels are "1".."T"; item names are "P01".."PN" (TTM) and "I1".."In" (DJ).
- TTM: one resource `R1` of capacity C; one routing `main` per item.
  DJ: every item is made (README: "components with a routing on an unconstrained resource"),
  including the BOM leaves, on resource `R` of capacity inf with 1 hour per unit.
- The literature files are read from their folder and never copied into the repository.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solver.io.instance_writer import write_instance_folder
from solver.io.writers import safe_file_names

# where the literature data are when no folder is given: $PRODBUDGET_LITERATURE, else the
# developers' layout (a `shared/literature` folder beside the checkout)
DEFAULT_LITERATURE_DIR = Path(
    os.environ.get("PRODBUDGET_LITERATURE") or Path(__file__).parents[2] / ".." / "shared" / "literature"
).resolve()

TTM_BLOCK = 15  # demand columns per block in the TTM files
# The published tr6-15 optimum holds for G30 with every capacity-use coefficient set to 1.0
# (ttm/known_values.csv); that variant is imported too, under this name.
TTM_UNIT_USE_VARIANTS: dict[str, str] = {"G30": "G30b"}

Tables = dict[str, pd.DataFrame]


# --- Trigeiro, Thomas & McClain --------------------------------------------------------


@dataclass(frozen=True)
class TTMData:
    """One TTM capacitated lot-sizing instance as in the file (items × periods arrays)."""

    name: str
    capacity: float  # per period, the same in every period
    a: np.ndarray  # capacity used per unit, (N,)
    h: np.ndarray  # holding cost per unit per period, (N,)
    st: np.ndarray  # setup time, (N,)
    sc: np.ndarray  # setup cost, (N,)
    demand: np.ndarray  # (N, T)
    constant: float = 1.0  # line 2 of the file; not used

    @property
    def n_items(self) -> int:
        return int(self.demand.shape[0])

    @property
    def n_periods(self) -> int:
        return int(self.demand.shape[1])


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def read_ttm(path: str | os.PathLike[str]) -> TTMData:
    """Parse a TTM file: whitespace-separated (spaces, tabs, CRLF), trailer lines ignored.

    Layout: `N T`, a constant, `C`, N rows `a h st sc`, then T demand rows per block of up to
    15 items (items 1..15, then 16..N when N > 15). Reading is by token so line breaks
    and padding do not matter; a DOS end-of-file mark (Ctrl-Z) and what follows are dropped.
    """
    p = Path(path)
    text = p.read_bytes().split(b"\x1a", 1)[0].decode("latin-1")
    toks = text.split()

    def num(i: int, what: str) -> float:
        if i >= len(toks):
            raise ValueError(f"{p.name}: file ends before {what}")
        try:
            return float(toks[i])
        except ValueError:
            raise ValueError(f"{p.name}: expected a number for {what}, got {toks[i]!r}") from None

    n_f, t_f = num(0, "N"), num(1, "T")
    if n_f != int(n_f) or t_f != int(t_f) or n_f < 1 or t_f < 1:
        raise ValueError(f"{p.name}: N and T must be positive integers, got {n_f}, {t_f}")
    n, t = int(n_f), int(t_f)
    constant = num(2, "the constant on line 2")
    cap = num(3, "the capacity C")
    pos = 4
    item_rows = np.array(
        [[num(pos + 4 * i + j, f"item {i + 1} column {j + 1}") for j in range(4)] for i in range(n)]
    )
    pos += 4 * n
    demand = np.zeros((n, t))
    for b0 in range(0, n, TTM_BLOCK):
        width = min(TTM_BLOCK, n - b0)
        for r in range(t):
            for c in range(width):
                demand[b0 + c, r] = num(pos, f"demand of item {b0 + c + 1} in period {r + 1}")
                pos += 1
    if pos < len(toks) and _is_number(toks[pos]):
        raise ValueError(
            f"{p.name}: unexpected number {toks[pos]!r} after {n}x{t} demands (wrong N or T?)"
        )
    return TTMData(
        name=p.stem,
        capacity=cap,
        a=item_rows[:, 0],
        h=item_rows[:, 1],
        st=item_rows[:, 2],
        sc=item_rows[:, 3],
        demand=demand,
        constant=constant,
    )


def _single_level_tables(
    items: list[str],
    kinds: list[str],
    holding: np.ndarray,
    routings: pd.DataFrame,
    demand: pd.DataFrame,
    resources: pd.DataFrame,
    bom: pd.DataFrame | None = None,
    initial_stock: np.ndarray | None = None,
    lead_time: np.ndarray | None = None,
) -> Tables:
    items_df = pd.DataFrame(
        {"item": items, "kind": kinds, "unit_cost": 0.0, "holding_cost": holding}
    )
    if initial_stock is not None:
        items_df["initial_stock"] = initial_stock
    if lead_time is not None:
        items_df["lead_time"] = lead_time
    tables: Tables = {
        "items": items_df,
        "demand": demand,
        "channels": pd.DataFrame({"channel": ["K1"], "service": ["must"]}),
        "resources": resources,
        "routings": routings,
    }
    if bom is not None:
        tables["bom"] = bom
    return tables


def _lot_sizing_toml(name: str, n_periods: int, total_setup_cost: float) -> dict:
    return {
        "name": name,
        "currency": "EUR",
        "periods": [str(t) for t in range(1, n_periods + 1)],
        # setups are cash; enough to pay every setup in every period, so cash never binds
        "cash": {"initial": float(np.ceil(total_setup_cost * n_periods))},
    }


def ttm_instance(
    path: str | os.PathLike[str], *, unit_capacity_use: bool = False, name: str | None = None
) -> tuple[dict, Tables]:
    """Convert a TTM file to a docs/model.md instance (literature README's model; cost = −profit).

    `unit_capacity_use=True` sets every capacity-use coefficient `a` to 1.0 (the "G30b"
    variant for which the published tr6-15 optimum holds).
    """
    d = read_ttm(path)
    n, t = d.n_items, d.n_periods
    items = [f"P{i:02d}" for i in range(1, n + 1)]
    periods = [str(k) for k in range(1, t + 1)]
    a = np.ones(n) if unit_capacity_use else d.a
    routings = pd.DataFrame(
        {
            "item": items,
            "routing": "main",
            "resource": "R1",
            "hours_per_unit": a,
            "setup_hours": d.st,
            "setup_cost": d.sc,
        }
    )
    demand = pd.DataFrame(
        {
            "product": np.repeat(items, t),
            "channel": "K1",
            "period": np.tile(periods, n),
            "quantity": d.demand.reshape(-1),
            "price": 0.0,
        }
    )
    resources = pd.DataFrame({"resource": ["R1"], "capacity": [d.capacity]})
    tables = _single_level_tables(items, ["product"] * n, d.h, routings, demand, resources)
    return _lot_sizing_toml(name or d.name, t, float(d.sc.sum())), tables


# --- Dellaert & Jeunet -----------------------------------------------------------------


@dataclass(frozen=True)
class DJData:
    """One Dellaert–Jeunet multi-level uncapacitated instance as in the JSON."""

    name: str
    structure: str
    n_periods: int
    items: tuple[int, ...]
    bom: tuple[tuple[int, int, float], ...]  # (parent, component, quantity per parent)
    setup_cost: dict[int, float]
    holding_cost: dict[int, float]
    external_demand: dict[int, tuple[float, ...]]
    initial_inventory: float = 0.0
    lead_time: int = 0
    reference_objective: float | None = None
    extra: dict = field(default_factory=dict)


def read_dj(json_path: str | os.PathLike[str]) -> dict[str, DJData]:
    """Parse the DJ subset JSON (`instances` by name; keys as the README describes)."""
    raw = json.loads(Path(json_path).read_text(encoding="utf-8"))
    out: dict[str, DJData] = {}
    for name, d in raw["instances"].items():
        known = {
            "structure",
            "T",
            "items",
            "bom",
            "setup_cost",
            "holding_cost",
            "external_demand",
            "initial_inventory",
            "lead_time",
            "reference_objective",
        }
        items = tuple(int(i) for i in d["items"])
        t = int(d["T"])
        dem = {int(k): tuple(float(x) for x in v) for k, v in d["external_demand"].items()}
        for k, v in dem.items():
            if len(v) != t:
                raise ValueError(f"{name}: demand of item {k} has {len(v)} periods, T = {t}")
        out[name] = DJData(
            name=name,
            structure=str(d.get("structure", "")),
            n_periods=t,
            items=items,
            bom=tuple((int(p), int(c), float(q)) for p, c, q in d["bom"]),
            setup_cost={int(k): float(v) for k, v in d["setup_cost"].items()},
            holding_cost={int(k): float(v) for k, v in d["holding_cost"].items()},
            external_demand=dem,
            initial_inventory=float(d.get("initial_inventory", 0) or 0),
            lead_time=int(d.get("lead_time", 0) or 0),
            reference_objective=(
                float(d["reference_objective"])
                if d.get("reference_objective") is not None
                else None
            ),
            extra={k: v for k, v in d.items() if k not in known},
        )
    return out


def dj_instance(d: DJData) -> tuple[dict, Tables]:
    """Convert one DJ instance: demanded items are products, all others made components."""
    items = list(d.items)
    name_of = {i: f"I{i}" for i in items}
    children = {c for _, c, _ in d.bom}
    products = [i for i in items if i in d.external_demand]
    clash = [i for i in products if i in children]
    if clash:
        raise ValueError(
            f"{d.name}: items {clash} have external demand and are BOM children;"
            " docs/model.md products cannot be components"
        )
    kinds = ["product" if i in d.external_demand else "component" for i in items]
    t = d.n_periods
    periods = [str(k) for k in range(1, t + 1)]
    routings = pd.DataFrame(
        {
            "item": [name_of[i] for i in items],
            "routing": "main",
            "resource": "R",
            "hours_per_unit": 1.0,
            "setup_cost": [d.setup_cost[i] for i in items],
        }
    )
    demand = pd.DataFrame(
        {
            "product": [name_of[i] for i in products for _ in range(t)],
            "channel": "K1",
            "period": periods * len(products),
            "quantity": [q for i in products for q in d.external_demand[i]],
            "price": 0.0,
        }
    )
    bom = pd.DataFrame(
        {
            "parent": [name_of[p] for p, _, _ in d.bom],
            "child": [name_of[c] for _, c, _ in d.bom],
            "quantity": [q for _, _, q in d.bom],
        }
    )
    resources = pd.DataFrame({"resource": ["R"], "capacity": [np.inf]})
    n = len(items)
    tables = _single_level_tables(
        [name_of[i] for i in items],
        kinds,
        np.array([d.holding_cost[i] for i in items]),
        routings,
        demand,
        resources,
        bom=bom,
        initial_stock=np.full(n, d.initial_inventory) if d.initial_inventory else None,
        lead_time=np.full(n, d.lead_time) if d.lead_time else None,
    )
    total_sc = float(sum(d.setup_cost[i] for i in items))
    return _lot_sizing_toml(d.name, t, total_sc), tables


def dj_instances(json_path: str | os.PathLike[str]) -> dict[str, tuple[dict, Tables]]:
    """Every instance of the DJ JSON converted to (toml, tables), by name."""
    return {name: dj_instance(d) for name, d in read_dj(json_path).items()}


# --- known values and the whole import -------------------------------------------------

_AS_GIVEN = re.compile(r"file as given[^;]*?has optimum\s+([0-9.]+)")


def known_values(literature_dir: str | os.PathLike[str] = DEFAULT_LITERATURE_DIR) -> pd.DataFrame:
    """Published optima: columns instance, best_known, source, set, alias, note.

    TTM rows are named by file stem (G53 for tr12-15). For G30 the published tr6-15 value
    belongs to the unit-coefficient variant G30b; the optimum the note gives for the file as
    given is listed under G30.
    """
    lit = Path(literature_dir)
    rows: list[dict] = []
    ttm_csv = lit / "ttm" / "known_values.csv"
    if ttm_csv.exists():
        kv = pd.read_csv(ttm_csv, dtype=str, keep_default_na=False)
        for r in kv.to_dict("records"):
            stem = Path(r["file"]).stem
            note = r.get("note", "")
            src = f"Belvaux & Wolsey 2000 / LOTSIZELIB {r['alias']} (ttm/known_values.csv)"
            variant = TTM_UNIT_USE_VARIANTS.get(stem)
            rows.append(
                {
                    "instance": variant or stem,
                    "best_known": float(r["optimal_total_cost"]),
                    "source": src,
                    "set": "ttm",
                    "alias": r["alias"],
                    "note": note,
                }
            )
            m = _AS_GIVEN.search(note)
            if variant and m:
                rows.append(
                    {
                        "instance": stem,
                        "best_known": float(m.group(1)),
                        "source": "ttm/known_values.csv note (file as given)",
                        "set": "ttm",
                        "alias": "",
                        "note": note,
                    }
                )
    dj_csv = lit / "dj2000" / "dj_phase1_known_values.csv"
    if dj_csv.exists():
        kv = pd.read_csv(dj_csv, dtype=str, keep_default_na=False)
        for r in kv.to_dict("records"):
            rows.append(
                {
                    "instance": r["instance"],
                    "best_known": float(r["optimal_objective"]),
                    "source": r["source"],
                    "set": "dj",
                    "alias": "",
                    "note": r.get("status", ""),
                }
            )
    return pd.DataFrame(rows, columns=["instance", "best_known", "source", "set", "alias", "note"])


def ttm_files(literature_dir: str | os.PathLike[str] = DEFAULT_LITERATURE_DIR) -> list[Path]:
    """The TTM data files, sorted by name."""
    d = Path(literature_dir) / "ttm"
    return sorted(p for p in d.iterdir() if p.suffix.upper() == ".DAT")


def import_literature(
    literature_dir: str | os.PathLike[str] = DEFAULT_LITERATURE_DIR,
    out_dir: str | os.PathLike[str] = "literature",
    sets: tuple[str, ...] = ("ttm", "dj"),
) -> pd.DataFrame:
    """Write every converted instance as a folder under out_dir, plus known_values.csv.

    Returns one row per written instance (instance, set, path, best_known).
    """
    lit, out = Path(literature_dir), Path(out_dir)
    unknown = set(sets) - {"ttm", "dj"}
    if unknown:
        raise ValueError(f"unknown literature sets {sorted(unknown)} (known: ttm, dj)")
    out.mkdir(parents=True, exist_ok=True)
    written: list[dict] = []
    if "ttm" in sets:
        for f in ttm_files(lit):
            toml, tables = ttm_instance(f)
            written.append(
                {
                    "instance": f.stem,
                    "set": "ttm",
                    "path": write_instance_folder(out / f.stem, toml, tables),
                }
            )
            variant = TTM_UNIT_USE_VARIANTS.get(f.stem)
            if variant:
                toml, tables = ttm_instance(f, unit_capacity_use=True, name=variant)
                written.append(
                    {
                        "instance": variant,
                        "set": "ttm",
                        "path": write_instance_folder(out / variant, toml, tables),
                    }
                )
    if "dj" in sets:
        dj = dj_instances(lit / "dj2000" / "dj_phase1_subset.json")
        folders = safe_file_names(dj)  # names come from the JSON: never a path by themselves
        for name, (toml, tables) in dj.items():
            written.append(
                {
                    "instance": name,
                    "set": "dj",
                    "path": write_instance_folder(out / folders[name], toml, tables),
                }
            )
    kv = known_values(lit)
    kv = kv[kv["set"].isin(sets)].reset_index(drop=True)
    kv.to_csv(out / "known_values.csv", index=False, encoding="utf-8", lineterminator="\n")
    result = pd.DataFrame(written, columns=["instance", "set", "path"])
    best = dict(zip(kv["instance"], kv["best_known"], strict=True))
    result["best_known"] = result["instance"].map(best)
    return result
