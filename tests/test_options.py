"""Solve options are declared once, with their domains (solver/engine/options.py): the library
refuses a value outside its domain on construction, the command line (generated from the
declarations) exits 2 on it, the benchmark configurations' `key=value` go through the same
check, and the command-line defaults and help are the declared ones."""

from __future__ import annotations

import argparse
import dataclasses
import math

import pytest

from solver.cli.common import solve_options
from solver.cli.insert import DEFAULT_TIME_LIMIT
from solver.cli.main import build_parser, main
from solver.devtools.bench import parse_config, resolve_configs
from solver.devtools.docs import command_options, options_markdown
from solver.engine.options import DEFAULTS, MAX_SEED, OPTIONS, SolveOptions, parse_option, written

# values each field must refuse (Python values), and a text the command line must refuse
BAD = {
    "time_limit": [-1, 0, math.nan, math.inf, "60", True],
    "gap": [-0.1, 1.5, math.nan, "0.01"],
    "threads": [0, -2, 1.5, True, "2"],
    "seed": [-1, MAX_SEED + 1, 0.5, None],
    "polish": [1, "yes", None],
    "sensitivity": [0, "true"],
    "log": ["no", 1],
    "handoff": ["Direct", "passmodel", 1],
    "formulation": ["LS", "big-m", "", None],
    "strategy": ["relax_and_fix", "MIP", "heuristic"],
}
BAD_TEXT = {
    "time_limit": "-1", "gap": "2", "threads": "0", "seed": "-1",
    "formulation": "LS", "strategy": "relax_and_fix", "log": "=yes", "sensitivity": "=yes",
}
# the largest and smallest values each numeric field takes
EDGES = {"time_limit": [1e-3, 1e9], "gap": [0.0, 1.0], "threads": [1, 64], "seed": [0, MAX_SEED]}
# commands' positional and required arguments, so that argparse reaches the option under test
REQUIRED = {"solve": ["P"], "diagnose": ["P"], "compare": ["P"], "sweep": ["P", "--param", "min_cash"],
            "insert": ["P", "--baseline", "B"], "roll": ["P", "--baseline", "B", "--actuals", "A", "--from", "1"],
            "bench": ["S"]}
TAKEN = command_options()
# defaults a command chooses for itself (said in its help and in the README's generated table)
OWN_DEFAULTS = {("bench", "time_limit"): 60.0, ("insert", "time_limit"): DEFAULT_TIME_LIMIT}


def test_every_field_is_declared_and_covered_here():
    fields = [f.name for f in dataclasses.fields(SolveOptions)]
    assert list(OPTIONS) == fields and set(BAD) == set(fields)
    assert set(BAD_TEXT) == {n for n, s in OPTIONS.items() if s.flag}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD.items() for v in vs],
                         ids=[f"{n}={v!r}" for n, vs in BAD.items() for v in vs])
def test_library_refuses_a_value_outside_the_domain(name, value):
    """Before: `SolveOptions(strategy="relax_and_fix")` was accepted and solved as mip; a
    negative time limit reached HiGHS."""
    with pytest.raises(ValueError) as err:
        SolveOptions(**{name: value})
    message = str(err.value)
    assert name in message and repr(value) in message and OPTIONS[name].domain.describe() in message
    with pytest.raises(ValueError, match=name):  # replace() checks too (the engine derives options so)
        dataclasses.replace(SolveOptions(), **{name: value})


def test_near_misses_of_a_choice_are_named():
    with pytest.raises(ValueError, match="did you mean 'relax-and-fix'"):
        SolveOptions(strategy="relax_and_fix")
    with pytest.raises(ValueError, match="unknown SolveOptions field 'time_limt'.*did you mean 'time_limit'"):
        parse_option("time_limt", "60")


@pytest.mark.parametrize("name", list(EDGES))
def test_domain_edges_are_accepted_and_normalised(name):
    for value in EDGES[name]:
        opts = SolveOptions(**{name: value})
        assert getattr(opts, name) == value and type(getattr(opts, name)) is type(DEFAULTS[name])
    assert SolveOptions(time_limit=60).time_limit == 60.0 and isinstance(SolveOptions(time_limit=60).time_limit, float)
    assert SolveOptions(threads=2.0).threads == 2 and isinstance(SolveOptions(threads=2.0).threads, int)


def test_every_written_default_parses_back_to_the_default():
    for name, default in DEFAULTS.items():
        assert parse_option(name, written(default)) == default


def _cli_refusal(capsys, command: str, args: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main([command, *REQUIRED[command], *args])
    assert exc.value.code == 2
    return capsys.readouterr().err


CLI_CASES = [(c, n) for c, opts in TAKEN.items() for n in opts]


@pytest.mark.parametrize(("command", "name"), CLI_CASES, ids=[f"{c} {OPTIONS[n].flag}" for c, n in CLI_CASES])
def test_command_line_refuses_a_value_outside_the_domain(tmp_path, monkeypatch, capsys, command, name):
    """Exit 2 naming the option, before anything runs or is written."""
    monkeypatch.chdir(tmp_path)
    flag, text = OPTIONS[name].flag, BAD_TEXT[name]
    err = _cli_refusal(capsys, command, [flag + text] if text.startswith("=") else [flag, text])
    assert f"argument {flag}" in err
    if OPTIONS[name].domain.kind in (int, float):
        assert f"{text!r} is not {OPTIONS[name].domain.describe()}" in err
    assert list(tmp_path.iterdir()) == []


def test_every_solving_command_takes_the_shared_options_generated():
    shared = {n for n, s in OPTIONS.items() if s.flag and s.shared}
    for command in ("solve", "diagnose", "sweep", "insert", "compare", "roll"):
        assert set(TAKEN[command]) >= shared, command
    assert set(TAKEN["solve"]) == {n for n, s in OPTIONS.items() if s.flag}


def test_no_command_declares_a_solve_option_by_hand():
    """A declared flag on a command is the generated one (`generate --seed` is the generator's
    seed, not HiGHS's)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    flags = {s.flag: n for n, s in OPTIONS.items() if s.flag}
    by_hand = [f"{command} {a.option_strings[0]}" for command, parser in sub.choices.items() for a in parser._actions
               if a.option_strings and a.option_strings[0] in flags and not hasattr(a, "solve_option")
               and (command, a.option_strings[0]) != ("generate", "--seed")]
    assert not by_hand


@pytest.mark.parametrize("command", list(TAKEN))
def test_generated_options_carry_the_declared_domain_default_and_help(command):
    for name, action in TAKEN[command].items():
        spec = OPTIONS[name]
        assert action.option_strings == [spec.flag] and action.dest == name
        assert tuple(action.choices or ()) == spec.domain.choices
        assert action.help.startswith(spec.help)
        if spec.domain.kind in (int, float) and not spec.domain.choices:
            assert spec.domain.describe() in action.help and f"default {written(action.default)}" in action.help
        expected = OWN_DEFAULTS.get((command, name), DEFAULTS[name])
        assert action.default == expected and type(action.default) is type(expected)


def test_command_line_defaults_are_the_library_defaults():
    """Parsing a solving command with no option gives SolveOptions() exactly; every flag's
    value reaches its field."""
    parser = build_parser()
    for command in ("solve", "diagnose", "sweep", "insert", "compare", "roll"):
        args = parser.parse_args([command, *REQUIRED[command]])
        own = {n: v for (c, n), v in OWN_DEFAULTS.items() if c == command}
        assert solve_options(args) == SolveOptions(**own), command
    args = parser.parse_args(["solve", "P", "--time-limit", "7", "--gap", "0.5", "--threads", "3", "--seed", "9",
                              "--log", "--formulation", "fl", "--strategy", "mip", "--sensitivity"])
    assert solve_options(args, sensitivity=args.sensitivity) == SolveOptions(
        time_limit=7, gap=0.5, threads=3, seed=9, log=True, formulation="fl", strategy="mip", sensitivity=True)
    assert solve_options(args).sensitivity is False  # the re-solves of --measure/diagnose don't ask for it


def test_help_shows_every_declared_flag_with_its_meaning(capsys):
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for spec in OPTIONS.values():
        if spec.flag:
            assert spec.flag in text and " ".join(spec.help.split()[:4]) in text


@pytest.mark.parametrize(("spec", "name"), [("gap=2", "gap"), ("strategy=MIP", "strategy"), ("threads=0", "threads"),
                                            ("seed-1:polish=maybe", "polish"), ("time_limit=-3", "time_limit"),
                                            ("formulation=LS", "formulation"), ("handoff=x", "handoff")])
def test_bench_configurations_are_checked_as_the_library_checks(spec, name):
    """Before: `gap=2` ran HiGHS with gap 2, `polish=maybe` ran with a truthy string."""
    with pytest.raises(ValueError) as err:
        resolve_configs([spec])
    assert f"configuration {spec!r}" in str(err.value) and name in str(err.value)
    assert OPTIONS[name].domain.describe() in str(err.value)


def test_bench_configurations_take_the_declared_spellings():
    opts = parse_config("polish=no,log=true,gap=0.01,threads=2,formulation=ls").solve_options(SolveOptions())
    assert (opts.polish, opts.log, opts.gap, opts.threads, opts.formulation) == (False, True, 0.01, 2, "ls")


def test_readme_option_table_lists_every_field():
    md = options_markdown()
    for name, spec in OPTIONS.items():
        row = next(line for line in md.splitlines() if f"| `{name}` |" in line)
        assert f"`{written(DEFAULTS[name])}`" in row and (spec.flag or "—") in row
