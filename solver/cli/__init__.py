"""The `prodbudget` command line: argument wiring only, one module per command."""

from solver.cli.main import main

__all__ = ["main"]
