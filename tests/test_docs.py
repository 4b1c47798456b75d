"""The README's generated sections (instance format from the schema specs, solve options from
their declarations) and its command table must not drift from the code."""

import argparse
import re
from pathlib import Path

from solver.cli.main import build_parser
from solver.devtools.docs import (
    END,
    OPTIONS_END,
    OPTIONS_START,
    START,
    command_options,
    format_markdown,
    options_markdown,
    render_readme,
)
from solver.engine.options import OPTIONS
from solver.io.schema import TABLES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_format_section_matches_the_schema():
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    assert render_readme(text) == text, "README format section is stale: run `python -m solver.devtools.docs`"


def test_every_table_and_column_is_documented():
    md = format_markdown()
    for t in TABLES:
        assert f"`{t.file}`" in md
        for c in t.columns:
            assert f"| `{c.name}` |" in md


def test_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.index("## Quick start")
    assert text.index("make demo") > quick and text.index("make test") > quick


def test_readme_options_section_is_generated_from_the_declarations():
    text = README.read_text(encoding="utf-8")
    assert OPTIONS_START in text and OPTIONS_END in text
    section = text.split(OPTIONS_START, 1)[1].split(OPTIONS_END, 1)[0]
    assert section.strip() == options_markdown().strip()


def test_readme_command_table_names_only_options_the_commands_take():
    """Each row `prodbudget CMD …` of the command table: every --flag is an option of CMD's
    parser, and `[solve options]` appears only where CMD takes them all."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    taken = command_options()
    shared = {n for n, s in OPTIONS.items() if s.flag and s.shared}
    rows = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| `prodbudget ")]
    assert len({row.split()[2] for row in rows}) == len(rows), "one row per command"
    for row in rows:
        synopsis = row.split("`")[1]
        command = synopsis.split()[1]
        known = {s for a in sub.choices[command]._actions for s in a.option_strings}
        unknown = set(re.findall(r"--[a-z][a-z-]*", synopsis)) - known
        assert not unknown, f"README names {unknown} for `prodbudget {command}`, which has no such option"
        if "[solve options]" in synopsis:
            assert shared <= set(taken[command]), command
