"""``aitheory dsl``: run one BF-8 program, or enumerate all programs up to L bits and tabulate behaviours."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aitheory.cli import EXIT_OK, GROUPS, UserInputError
from aitheory.cli._common import (
    enumeration_bits,
    int_in,
    parse_symbols,
    positive_float,
    print_json,
    workers_count,
)
from aitheory.dsl.limits import LIMITS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dsl", help=GROUPS["dsl"])
    sub = parser.add_subparsers(dest="dsl_command", metavar="SUBCOMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run one plain program; prints {actions, status, steps} as JSON")
    run.add_argument("program", help="plain BF-8 program, e.g. '+[,.+]]'")
    _machine_args(run)
    run.add_argument("--obs", default=None, help="observations o_1 o_2 ... as digits ('0110') or 0,1,1,0")
    run.add_argument("--actions", type=LIMITS.argtype("horizon", "--actions"), default=8,
                     help="horizon H: actions to emit (default 8)")
    run.set_defaults(func=_run)

    count = sub.add_parser("count", help="exact number of programs and Kraft mass per length (no running)")
    count.add_argument("--max-bits", type=int_in(1, 3000, "exact counts grow as 8^n"), default=30,
                       help="lengths up to this many bits")
    count.set_defaults(func=_count)

    enum = sub.add_parser("enumerate", help="run every plain program up to --max-bits bits; mass per status")
    enum.add_argument("--max-bits", type=enumeration_bits, default=24,
                      help=f"enumerate programs of <= L bits (3..{LIMITS.max_bits}: at most {LIMITS.max_programs:.0e} "
                           "programs)")
    _machine_args(enum)
    enum.add_argument("--horizon", type=LIMITS.argtype("horizon"), default=16,
                      help="actions per run (default 16)")
    enum.add_argument("--obs", default=None, help="one observation history (default: all observations 0)")
    enum.add_argument(
        "--all-obs", action="store_true",
        help="run on every observation sequence o_1..o_{H-1} (K^(H-1) histories; masses are for the first)",
    )
    enum.add_argument("--out", type=_table_path, default=None, help="save the behaviour table (.npz, or .csv)")
    enum.add_argument(
        "--checkpoint", type=_table_path, default=None,
        help="checkpoint file (.npz): finished blocks are saved there every --checkpoint-seconds and a rerun "
             "with the same options resumes from it (default with --out: OUT.checkpoint.npz; removed when done)",
    )
    enum.add_argument("--checkpoint-seconds", type=positive_float, default=60.0,
                      help="seconds between checkpoints (default 60)")
    enum.add_argument(
        "--workers", type=workers_count, default=None,
        help="local processes (default: 1 up to 27 bits, else all cores)",
    )
    enum.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    enum.set_defaults(func=_enumerate)


def _machine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--K", dest="k", type=LIMITS.argtype("k", "--K"), default=2,
                   help=f"alphabet size K in 2..{LIMITS.max_k} (default 2)")
    p.add_argument("--steps", type=LIMITS.argtype("steps"), default=1000, help="step budget T per emission (1000)")
    p.add_argument("--tape-bound", type=LIMITS.argtype("tape_bound"), default=None,
                   help="head may visit cells -B..B (default 4096)")
    p.add_argument("--no-cycles", action="store_true", help="turn off cycle detection (no proven_silent)")


def _table_path(text: str) -> str:
    """argparse type: a non-empty file path that is not a folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path")
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name (.npz or .csv)")
    return text


def parse_obs(text: str | None, k: int) -> list[int] | None:
    """``'0110'`` or ``'0,1,1,0'`` -> [0, 1, 1, 0]; UserInputError naming the bad symbol."""
    return parse_symbols(text, k, "--obs")


def _run(args: argparse.Namespace) -> int:
    from aitheory.dsl import DEFAULT_TAPE_BOUND, ParseError, parse
    from aitheory.dsl.fast import pack_programs, run_batch

    try:
        program = parse(args.program)
    except ParseError as exc:
        raise UserInputError(str(exc)) from None
    obs = parse_obs(args.obs, args.k)
    horizon = args.actions
    if obs is not None and len(obs) < horizon - 1:
        horizon = len(obs) + 1
        print(
            f"note: --obs gives {len(obs)} observations, which determine at most {horizon} actions; "
            f"running to {horizon}", file=sys.stderr,
        )
    bound = DEFAULT_TAPE_BOUND if args.tape_bound is None else args.tape_bound
    codes, lengths = pack_programs([program.codes])
    res = run_batch(codes, lengths, args.k, horizon, obs, args.steps, bound, not args.no_cycles)
    e = int(res.n_emitted[0])
    print_json(
        {
            "actions": ["~" if a == -1 else int(a) for a in res.actions[0, :e]],
            "status": res.status_names()[0],
            "steps": [int(s) for s in res.steps[0, :e]],
        }
    )
    return EXIT_OK


def _enumerate(args: argparse.Namespace) -> int:
    from aitheory.dsl import DEFAULT_TAPE_BOUND
    from aitheory.dsl.behaviour import EnumConfig, behaviour_table, save_table, table_summary
    from aitheory.dsl.checkpoint import checkpointed_table
    from aitheory.progress import progress_enabled
    from aitheory.results import clean_temporary_files

    obs = parse_obs(args.obs, args.k)
    if obs is not None and len(obs) < args.horizon - 1:
        need = args.horizon - 1
        raise UserInputError(f"--obs has {len(obs)} observations; --horizon {args.horizon} needs {need}")
    bound = DEFAULT_TAPE_BOUND if args.tape_bound is None else args.tape_bound
    if args.all_obs and (obs is not None or args.k ** (args.horizon - 1) > 1 << 16):
        raise UserInputError("--all-obs: give no --obs, and keep K^(horizon-1) <= 65536 (lower --horizon or --K)")
    try:
        config = EnumConfig(
            max_bits=args.max_bits, k=args.k, horizon=args.horizon, steps=args.steps, tape_bound=bound,
            histories=None if obs is None else (tuple(obs),), detect_cycles=not args.no_cycles,
            all_histories=args.all_obs,
        )
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    workers = args.workers
    if workers is None and args.scheduler is None:
        workers = 1 if args.max_bits <= 27 else None
    show = progress_enabled()
    checkpoint = args.checkpoint or (f"{args.out}.checkpoint.npz" if args.out else None)
    for path in (args.out, checkpoint):  # temporary files of writes a killed run left behind
        if path:
            clean_temporary_files(Path(path).parent, Path(path).name)
    if checkpoint is None:
        table = behaviour_table(config, workers=workers, scheduler=args.scheduler, show_progress=show)
    else:
        try:
            table = checkpointed_table(config, checkpoint, every_seconds=args.checkpoint_seconds, workers=workers,
                                       scheduler=args.scheduler, show_progress=show)
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    summary = table_summary(table)
    if args.out:
        summary["out"] = str(save_table(table, args.out))
    if checkpoint is not None and args.out:
        Path(checkpoint).unlink(missing_ok=True)
    print_json(summary)
    return EXIT_OK


def _count(args: argparse.Namespace) -> int:
    from aitheory.dsl.codes import kraft_mass, program_count

    rows = []
    total = 0
    for n in range(1, args.max_bits // 3 + 1):
        total += program_count(n)
        mass = kraft_mass(n)
        rows.append(
            {"tokens": n, "bits": 3 * n, "programs": program_count(n), "programs_up_to": total,
             "kraft_mass_up_to": float(mass), "kraft_mass_up_to_exact": str(mass)}
        )
    print_json({"lengths": rows, "total_prior": "1 (exactly, over all lengths)"})
    return EXIT_OK
