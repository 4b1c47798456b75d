"""The README's format section is generated from the schema specs and must not drift."""

from pathlib import Path

from solver.devtools.docs import END, START, format_markdown, render_readme
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
