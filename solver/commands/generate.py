"""`prodbudget generate`: a random valid instance exercising every feature of the model."""

from __future__ import annotations

from dataclasses import fields

from solver.commands.common import err_console
from solver.generator import GeneratorParams, generate_to, ladder


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="write a generated instance (feasible by construction, seeded)")
    d = GeneratorParams()
    for f in fields(GeneratorParams):
        p.add_argument(f"--{f.name}", type=type(getattr(d, f.name)), default=None,
                       help=f"default {getattr(d, f.name)}")
    p.add_argument("--size", help="start from a named size of the ladder (tiny, small, medium, large, xl)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (must not exist)")
    p.set_defaults(run=run)


def run(args) -> int:
    overrides = {f.name: getattr(args, f.name) for f in fields(GeneratorParams) if getattr(args, f.name) is not None}
    params = ladder(args.size, **overrides) if args.size else GeneratorParams(**overrides)
    out = generate_to(params, args.out)
    err_console.print(f"instance written to {out}/ ({params})")
    return 0
