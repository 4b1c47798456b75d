"""Solve options, each declared once with its domain.

Every `SolveOptions` field carries a declaration (`OptionSpec`: the values it takes, what it
means, its command-line flag) in its dataclass metadata. The declarations are the single
source of the checks made on construction (a misspelt strategy or a negative time limit is a
`ValueError` naming the field, the value and what it takes, never a run of something else),
of the command-line options (solver/cli/common.py generates type, choices, default and help
from them), of the README's option table (solver/devtools/docs.py) and of the benchmark
configurations' `key=value` (solver/devtools/bench.py). Defaults are fixed so that the same
input gives the same plan.

Dataclass metadata rather than Pyomo's ConfigDict: the declarations are plain data, importing
them costs nothing (child processes import this module), and the options stay a frozen,
picklable dataclass.
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from formulations.setup.variants import FORMULATIONS

# Above this many rows the heuristic builds the plan by an LP dive, and strategy "auto" uses it:
# branch-and-bound and MIP windows found no plan on the 12k-row medium ladder in 60 s.
# (Here, not in solver/engine/highs.py, so that the command line shows it without loading HiGHS.)
LARGE_ROWS = 5_000
STRATEGIES: tuple[str, ...] = ("auto", "mip", "relax-and-fix")
HANDOFFS: tuple[str, ...] = ("direct", "pyomo")
MAX_SEED = 2_147_483_647  # HiGHS random_seed range

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _plain(x: float) -> str:
    """A bound as a person writes it: 1 not 1.0, 2147483647 not 2.14748e+09."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Domain:
    """The values one option takes: a type (bool, int, float or str), for text a list of
    choices, for numbers a range (always finite). `unit` names what a number counts."""

    kind: type
    choices: tuple[str, ...] = ()
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    unit: str = ""
    what: str = ""  # the description, where a word says it better than the range (`a port 0..65535`)

    def describe(self) -> str:
        """What the domain takes, as an error message or the README says it: `a finite number
        of seconds > 0`, `a whole number 0..2147483647`, `one of auto, mip, relax-and-fix`."""
        if self.what:
            return self.what
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return f"one of {', '.join(self.choices)}" if self.choices else "a text"
        noun = "a whole number" if self.kind is int else ("a number" if self.at_most is not None else "a finite number")
        if self.unit:
            noun += f" of {self.unit}"
        if self.at_least is not None and self.at_most is not None:
            return f"{noun} {_plain(self.at_least)}..{_plain(self.at_most)}"
        bounds = [f">= {_plain(self.at_least)}" if self.at_least is not None else "",
                  f"> {_plain(self.above)}" if self.above is not None else "",
                  f"<= {_plain(self.at_most)}" if self.at_most is not None else ""]
        return " ".join([noun, *(b for b in bounds if b)])

    def check(self, value: Any) -> Any:
        """`value` as the domain's type (an int where a float is expected becomes a float);
        ValueError (the description) if it is of another type or outside the domain."""
        if self.kind is bool:
            if isinstance(value, bool):
                return value
        elif self.kind is str:
            if isinstance(value, str) and (not self.choices or value in self.choices):
                return value
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
            number = self.kind(value) if self.kind is float or whole else math.nan  # 1.5 threads: no number
            if (math.isfinite(number) and (self.at_least is None or number >= self.at_least)
                    and (self.above is None or number > self.above)
                    and (self.at_most is None or number <= self.at_most)):
                return number
        raise ValueError(self.describe())

    def parse(self, text: str) -> Any:
        """The value written as `text` (a command-line argument, a benchmark `key=value`),
        checked: ValueError (the description) if it is not one."""
        text = text.strip()
        if self.kind is bool:
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise ValueError(self.describe())
        if self.kind is str:
            return self.check(text)
        try:
            value = int(text) if self.kind is int else float(text)
        except ValueError:
            raise ValueError(self.describe()) from None
        return self.check(value)

    def suggestion(self, value: Any) -> str:
        """` (did you mean 'relax-and-fix'?)` for a near miss of a choice, else ``."""
        if not self.choices or not isinstance(value, str):
            return ""
        close = difflib.get_close_matches(value.strip().lower().replace("_", "-"), self.choices, n=1, cutoff=0.6)
        return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class OptionSpec:
    """The declaration of one solve option: its domain and meaning, and how the command line
    spells it (`flag` None: Python and benchmark configurations only; `shared`: every solving
    command takes it, else only the commands that add it by name)."""

    domain: Domain
    help: str
    flag: str | None = None
    metavar: str | None = None
    shared: bool = True


def _declare(default: Any, domain: Domain, help: str, *, flag: str | None = None, metavar: str | None = None,
             shared: bool = True) -> Any:
    return field(default=default, metadata={"option": OptionSpec(domain, help, flag, metavar, shared)})


@dataclass(frozen=True)
class SolveOptions:
    """How a plan is solved. Every field is checked against its declared domain on
    construction (also through `dataclasses.replace`): a bad value is a ValueError naming the
    field, the value and what the field takes."""

    time_limit: float = _declare(
        300.0, Domain(float, above=0, unit="seconds"), "seconds HiGHS may spend on the MIP",
        flag="--time-limit", metavar="S")
    gap: float = _declare(
        1e-4, Domain(float, at_least=0, at_most=1), "relative MIP gap at which a plan counts as optimal",
        flag="--gap", metavar="G")
    threads: int = _declare(
        1, Domain(int, at_least=1), "HiGHS threads; the default is fixed so that the same input gives the same plan",
        flag="--threads", metavar="N")
    seed: int = _declare(
        0, Domain(int, at_least=0, at_most=MAX_SEED), "HiGHS random seed", flag="--seed", metavar="S")
    polish: bool = _declare(
        True, Domain(bool), "round the integers of the plan and re-solve the LP, so the profit reported is that of "
        "a plan which truly satisfies the model (solver/engine/highs.py)")
    sensitivity: bool = _declare(
        False, Domain(bool), "shadow prices, ranges and the ranked binding limits (fixed-pattern LP)",
        flag="--sensitivity", shared=False)
    log: bool = _declare(False, Domain(bool), "show the HiGHS log", flag="--log")
    handoff: str = _declare(
        "direct", Domain(str, HANDOFFS), "how the model reaches HiGHS: direct = rows compiled straight to arrays; "
        "pyomo = Pyomo constraints and LinearStandardFormCompiler (the comparison route)")
    formulation: str = _declare(
        "bigm", Domain(str, FORMULATIONS), "setup links: bigm = big-M rows (docs/model.md §4.5); ls = big-M plus "
        "the (l,S) inequalities of single-level items; fl = big-M plus their facility-location rows; cuts = big-M "
        "plus the (l,S) and interval rows a root cut loop finds violated (solver/engine/cuts.py)",
        flag="--formulation")
    strategy: str = _declare(
        "auto", Domain(str, STRATEGIES), "mip = branch-and-bound on the whole plan; relax-and-fix = time-boxed "
        f"heuristic for large plans, with a proven bound; auto = mip up to {LARGE_ROWS:,} rows, relax-and-fix above",
        flag="--strategy")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, check_option(f.name, value))


OPTIONS: dict[str, OptionSpec] = {f.name: f.metadata["option"] for f in fields(SolveOptions)}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(SolveOptions) if f.default is not MISSING}


def written(value: Any) -> str:
    """An option value as a person types it: `300`, `0.0001`, `true`, `auto`."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _refusal(name: str, value: Any) -> ValueError:
    domain = OPTIONS[name].domain
    return ValueError(f"SolveOptions {name}={value!r} refused: expected {domain.describe()}{domain.suggestion(value)}")


def _spec(name: str) -> OptionSpec:
    if name not in OPTIONS:
        close = difflib.get_close_matches(name, OPTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown SolveOptions field {name!r}{hint} (known: {', '.join(OPTIONS)})")
    return OPTIONS[name]


def check_option(name: str, value: Any) -> Any:
    """`value` for field `name`, normalised to the field's type; ValueError naming the field,
    the value and its domain otherwise (also for an unknown field)."""
    domain = _spec(name).domain
    try:
        return domain.check(value)
    except ValueError:
        raise _refusal(name, value) from None


def parse_option(name: str, text: str) -> Any:
    """The value of field `name` written as text (`time_limit=60`, `polish=false`); ValueError
    naming the field, the text and its domain if it is not one."""
    domain = _spec(name).domain
    try:
        return domain.parse(text)
    except ValueError:
        raise _refusal(name, text) from None
