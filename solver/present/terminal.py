"""The terminal: one console factory for the whole command line.

Names in the data (products, channels, lines, scenarios, sheet names, file names) reach the
terminal verbatim. Rich would otherwise read `[/x]` or `[red]L1[/red]` in a product name as
markup (a crash, or text that vanishes) and `P:x:1` as an emoji code (`P❌1`). So every console
is made here with markup and emoji codes off, and styling is applied to our own words only,
through `styled` (rich `Text` spans) — never by formatting markup around a data string.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def console(stderr: bool = False) -> Console:
    """A console that prints every string as given: no markup, no emoji codes, no highlighting.

    Messages on stderr stay one line each (soft wrap): greppable, never split mid-name.
    """
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=stderr)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain parts and (text, style) pairs; no part is ever parsed as markup.

    `styled(("error", "red"), ": ", message)` prints "error: <message>" with "error" in red.
    """
    return Text.assemble(*parts)
