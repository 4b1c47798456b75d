"""`prodbudget generate`: a random valid instance exercising every feature of the model."""

from __future__ import annotations

from dataclasses import fields

from solver.cli.common import COUNT, POSITIVE, err_console, number
from solver.devtools.generator import LADDER, GeneratorParams, generate_to, ladder
from solver.io.writers import check_output

# every size is at least 1 and the seed fits numpy's generator: `--products 0` is bad usage (exit 2)
FIELD_TYPES = {"seed": number(int, at_least=0, at_most=2**32 - 1),
               "tightness": POSITIVE}


def add_arguments(p) -> None:
    d = GeneratorParams()
    for f in fields(GeneratorParams):
        kind = FIELD_TYPES.get(f.name, COUNT if isinstance(getattr(d, f.name), int) else POSITIVE)
        p.add_argument(f"--{f.name}", type=kind, default=None, help=f"default {getattr(d, f.name)}")
    p.add_argument("--size", choices=tuple(LADDER), help="start from a named size of the ladder")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (must not exist)")
    p.set_defaults(run=run)


def run(args) -> int:
    check_output(args.out, force=False)
    overrides = {f.name: getattr(args, f.name) for f in fields(GeneratorParams) if getattr(args, f.name) is not None}
    params = ladder(args.size, **overrides) if args.size else GeneratorParams(**overrides)
    try:
        params.validate()
    except ValueError as err:
        err_console.print(f"prodbudget generate: {err}")
        return 2
    generate_to(params, args.out)
    err_console.print(f"instance written to {args.out}/ ({params})")
    return 0
