"""``aitheory kl``: the Definition-2 KL of switching to your policy after your event, next to Theorem 1's bound.

One point: ``aitheory kl --history 0000000001 --event '+[,.+]]' --policy '+[.]]' --horizon 3`` prints one JSON
object (every field of :class:`aitheory.bounds.SwitchCost`) on stdout and a one-line summary on stderr. A sweep:
``--sweep FILE`` reads one ``EVENT POLICY`` pair per line (``-`` takes ``--event`` / ``--policy``; ``#`` starts a
comment) and writes a run folder with ``metrics.csv`` (one row per line), ``summary.json`` and the figure
``kl_vs_bits`` (KL and bound against ``K(E) + K(P)``). Exit 0; 1 if a promised bound did not hold; 2 bad input.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from aitheory.cli import EXIT_FAILED, EXIT_OK, GROUPS, UserInputError
from aitheory.cli._common import parse_symbols, positive_int, print_json
from aitheory.dsl.limits import LIMITS
from aitheory.results import check_out_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "kl", help=GROUPS["kl"],
        description=__doc__.strip().split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--history", default=None,
                        help="observations o_1 .. o_{t-1} as digits ('0000000001') or 0,0,1; the policy takes over "
                             "at t = their number + 1 (or give --interleaved)")
    parser.add_argument("--interleaved", default=None,
                        help="the history as a_1 o_1 .. a_{t-1} o_{t-1} (even length), instead of --history and "
                             "--actions")
    parser.add_argument("--joint", action="store_true",
                        help="joint mode: the class predicts actions and observations (xi is base policy and "
                             "environment model); the construction is SWITCH(E, ACT(P), MIX): P acts, MIX predicts "
                             "the observations")
    parser.add_argument("--plain-policy", action="store_true",
                        help="with --joint: use SWITCH(E, P, MIX) with P plain in both roles (P reads the interleaved "
                             "history and its emissions predict the observations too), and enumerate --switch-bits "
                             "rows of that form; the bound is then measured, not promised")
    parser.add_argument("--event", default=None, help="the event E: a plain BF-8 detector, e.g. '+[,.+]]'")
    parser.add_argument("--policy", default=None, help="the policy P after the event, e.g. '+[.]]' (always 1)")
    parser.add_argument("--horizon", type=positive_int, default=3, help="steps the policy acts for (default 3)")
    parser.add_argument("--actions", default=None,
                        help="the demonstrator's actions a_1 .. a_{t-1} (default: all 0)")
    parser.add_argument("--demonstrator", default=None,
                        help="a plain program whose emissions on the history are the demonstrator's actions")
    parser.add_argument("--class-bits", type=LIMITS.argtype("max_bits", "--class-bits"), default=15,
                        help="enumerate every plain program of at most this many bits (3 per token; default 15)")
    parser.add_argument("--switch-bits", type=int, default=0,
                        help="also enumerate every SWITCH(E', P', MIX) with parts of at most this many bits; with "
                             "--joint SWITCH(E', ACT(P'), MIX), the rows the bound assumes (plain P' with "
                             "--plain-policy) (default 0: only the construction is added)")
    parser.add_argument("--shortest", action="store_true",
                        help="price E and P by the shortest equivalent programs found in the class (with --joint: "
                             "compared in policy reading on the observation streams; not with --plain-policy)")
    parser.add_argument("--K", dest="k", type=LIMITS.argtype("k", "--K"), default=2, help="alphabet size K (default 2)")
    parser.add_argument("--steps", type=LIMITS.argtype("steps"), default=1000, help="step budget T per emission (1000)")
    parser.add_argument("--carriers", type=int, default=5, help="rows of the switch set to list (default 5)")
    parser.add_argument("--sweep", default=None, metavar="FILE",
                        help="one 'EVENT POLICY' pair per line ('-': the --event/--policy value); writes a run folder")
    parser.add_argument("--out", default=None, type=check_out_path,
                        help="run folder of --sweep (default runs/kl-<timestamp>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="clear --out first if it holds a sweep of another configuration")
    parser.set_defaults(func=_kl)


def _program(text: str, option: str) -> Any:
    from aitheory.dsl import ParseError, Plain, parse_expr

    try:
        expr = parse_expr(text)
    except ParseError as exc:
        raise UserInputError(f"{option}: cannot parse {text!r} at position {exc.position}: {exc.reason}") from None
    if not isinstance(expr, Plain):
        raise UserInputError(f"{option}: must be a plain BF-8 program, got {text!r}")
    return expr


def _class(args: argparse.Namespace) -> Any:
    from aitheory.bounds import default_class

    if args.switch_bits < 0 or args.switch_bits % 3 or args.switch_bits > 27:
        raise UserInputError(f"--switch-bits: must be a multiple of 3 (bits per token) in 0..27, got "
                             f"{args.switch_bits} (enumerated SWITCH programs have at most 62 bits; your own "
                             "construction is added whatever its length)")
    try:
        config = default_class(args.k, args.class_bits, args.switch_bits, args.steps,
                               act=args.joint and not args.plain_policy)
    except ValueError as exc:
        raise UserInputError(str(exc).replace("argument max_bits", "--class-bits")) from None
    _check_switch_bits(config, args.switch_bits)
    return config


def _check_switch_bits(config: Any, switch_bits: int) -> None:
    """Refuse, before anything is enumerated, SWITCH parts too many to hold at once (naming --switch-bits)."""
    from aitheory.bounds import default_class
    from aitheory.mixture.classes import MAX_SWITCH_PART_PROGRAMS, switch_part_programs

    count = switch_part_programs(config)
    if count <= MAX_SWITCH_PART_PROGRAMS:
        return
    fits = max(b for b in range(0, switch_bits, 3)
               if switch_part_programs(default_class(config.k, config.max_bits, b, act=config.switch_act))
               <= MAX_SWITCH_PART_PROGRAMS)
    raise UserInputError(f"--switch-bits {switch_bits}: enumerating the SWITCH parts means {count:,} plain programs "
                         f"run at once (limit {MAX_SWITCH_PART_PROGRAMS:,}); use --switch-bits {fits} or less")


def _cost(args: argparse.Namespace, event: Any, policy: Any, where: str = "") -> Any:
    from aitheory.bounds import switch_cost
    from aitheory.mixture.classes import ClassTooLargeError

    obs, actions = _history(args)
    demonstrator = _program(args.demonstrator, "--demonstrator") if args.demonstrator is not None else None
    try:
        return switch_cost(obs, event, policy, horizon=args.horizon, actions=actions, demonstrator=demonstrator,
                           class_config=_class(args), shortest=args.shortest, carriers=args.carriers,
                           mode="joint" if args.joint else "policy", plain_policy=args.plain_policy)
    except ClassTooLargeError as exc:  # _class refuses these first; kept so that none escapes as a traceback
        raise UserInputError(f"{where}{exc}") from None
    except ValueError as exc:
        message = str(exc)
        for name in ("event", "policy", "actions", "demonstrator", "horizon", "observations", "shortest"):
            message = message.replace(f"argument {name}", "--history" if name == "observations" else f"--{name}")
        raise UserInputError(f"{where}{message}") from None


def _history(args: argparse.Namespace) -> tuple[list[int], list[int] | None]:
    """(observations, demonstrator actions or None) from --history/--actions or from --interleaved."""
    if args.interleaved is None:
        if args.history is None:
            raise UserInputError("--history: required (the observations o_1 .. o_{t-1}), or give --interleaved")
        actions = parse_symbols(args.actions, args.k, "--actions")
        return parse_symbols(args.history, args.k, "--history") or [], actions
    if args.history is not None or args.actions is not None or args.demonstrator is not None:
        raise UserInputError("--interleaved: give it instead of --history, --actions and --demonstrator, not with them")
    symbols = parse_symbols(args.interleaved, args.k, "--interleaved") or []
    if len(symbols) % 2:
        raise UserInputError(f"--interleaved: a_1 o_1 .. a_{{t-1}} o_{{t-1}} has even length, got {len(symbols)}")
    return symbols[1::2], symbols[0::2]


def _summary_line(r: Any) -> str:
    relation = "<=" if r.held else ">"
    why = ("precedented" if not r.unprecedented else "construction missing or refuted" if r.posterior_ratio == 0
           else "posterior ratio < 1" if r.posterior_ratio < 1 - 1e-12
           else "plain P in joint mode" if r.mode == "joint" and r.observations_from_mix is None
           else "plain-P SWITCH rows in the class" if r.plain_switch_rows
           else "observations not from MIX")
    promise = "promised" if r.bound_promised else f"not promised ({why})"
    return (f"KL {r.kl_nats:.4g} nats {relation} bound {r.bound_nats:.4g} nats = [K(E) {r.event_bits} + K(P) "
            f"{r.policy_bits} + d {r.d_bits}] bits x ln 2 ({promise}); switch at t={r.t} "
            f"{'unprecedented' if r.unprecedented else 'precedented'}, posterior ratio {r.posterior_ratio:.4g}, "
            f"worst observations {''.join(map(str, r.worst_observations)) or '-'}")


def _kl(args: argparse.Namespace) -> int:
    if args.plain_policy and not args.joint:
        raise UserInputError("--plain-policy: only with --joint (in policy mode P is read as a policy already)")
    if args.sweep is not None:
        return _sweep(args)
    if args.event is None or args.policy is None:
        raise UserInputError("--event and --policy: both are needed (or give --sweep FILE)")
    result = _cost(args, _program(args.event, "--event"), _program(args.policy, "--policy"))
    print_json(result)
    _warn_plain_switch_rows(result.plain_switch_rows)
    print(_summary_line(result), file=sys.stderr)
    return EXIT_FAILED if result.bound_promised and not result.held else EXIT_OK


def _warn_plain_switch_rows(plain_switch_rows: bool) -> None:
    """One warning line on stderr where the joint-mode class enumerates SWITCH rows with a plain P'."""
    from aitheory.bounds import PLAIN_SWITCH_ROWS_NOTE

    if plain_switch_rows:
        print(f"warning: {PLAIN_SWITCH_ROWS_NOTE}", file=sys.stderr)


def _sweep_pairs(args: argparse.Namespace) -> list[tuple[int, Any, Any]]:
    """(line number, E, P) for every line of the sweep file, all parsed before anything is computed."""
    path = Path(args.sweep)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserInputError(f"--sweep: cannot read {args.sweep}: {exc.strerror}") from None
    pairs = []
    for n, line in enumerate(lines, start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise UserInputError(f"--sweep: {args.sweep} line {n}: expected 'EVENT POLICY', got {line.strip()!r}")
        chosen = []
        for text, name, default in zip(fields, ("event", "policy"), (args.event, args.policy), strict=True):
            if text == "-":
                if default is None:
                    raise UserInputError(f"--sweep: {args.sweep} line {n}: '-' needs --{name}")
                text = default
            chosen.append(_program(text, f"--sweep {args.sweep} line {n} ({name})"))
        pairs.append((n, chosen[0], chosen[1]))
    if not pairs:
        raise UserInputError(f"--sweep: {args.sweep} has no 'EVENT POLICY' line")
    return pairs


def _row(n: int, r: Any) -> dict[str, Any]:
    return {"line": n, "event": r.event, "policy": r.policy, "event_bits": r.event_bits, "policy_bits": r.policy_bits,
            "d_bits": r.d_bits, "program_bits": r.event_bits + r.policy_bits, "kl_nats": r.kl_nats,
            "bound_nats": r.bound_nats, "construction_bound_nats": r.construction_bound_nats,
            "switch_bound_nats": r.switch_bound_nats, "posterior_ratio": r.posterior_ratio,
            "unprecedented": r.unprecedented, "bound_promised": r.bound_promised, "held": r.held,
            "worst_observations": "".join(map(str, r.worst_observations))}


def _sweep(args: argparse.Namespace) -> int:
    from aitheory.progress import progress, progress_enabled
    from aitheory.results import RunFolder

    pairs = _sweep_pairs(args)
    class_config = _class(args)
    config = {k: v for k, v in vars(args).items() if k not in ("func", "overwrite", "debug")}
    if class_config.switch and class_config.switch_act:
        # the enumerated SWITCH rows are SWITCH(E', ACT(P'), MIX): recorded, so that a folder of the plain-P rows
        # (written before joint mode enumerated ACT rows) is refused; absent means plain P, as in those folders
        config["switch_act"] = True
    folder = RunFolder.open(args.out, "kl-sweep", config, overwrite=args.overwrite, name="kl")
    rows: list[dict[str, Any]] = []
    plain_switch_rows = False
    for n, event, policy in progress(pairs, desc="kl sweep", unit="pair", disable=not progress_enabled()):
        result = _cost(args, event, policy, where=f"--sweep {args.sweep} line {n}: ")
        plain_switch_rows = plain_switch_rows or result.plain_switch_rows
        rows.append(_row(n, result))
        folder.write_metrics(rows)  # each point is kept as soon as it is computed
    promised = [r for r in rows if r["bound_promised"]]
    control = _control(args, pairs[0])
    summary = {
        "points": len(rows), "promised_points": len(promised),
        "held": all(r["held"] for r in promised),
        "max_kl_nats": max(r["kl_nats"] for r in rows),
        "max_kl_over_bound": max((r["kl_nats"] / r["bound_nats"] for r in rows), default=math.nan),
        "units": "nats; program lengths in bits",
        "controls": {"no_construction": control},
    }
    summary["figures"] = list(_plot(rows, folder.path))
    folder.write_summary(summary)
    _warn_plain_switch_rows(plain_switch_rows)
    print(f"kl sweep: {len(rows)} points, {len(promised)} with the bound promised, "
          f"{'all held' if summary['held'] else 'SOME FAILED'}  [{folder.path}]", file=sys.stderr)
    print_json({"run_folder": str(folder.path), **summary})
    return EXIT_OK if summary["held"] else EXIT_FAILED


def _control(args: argparse.Namespace, pair: tuple[int, Any, Any]) -> dict[str, Any]:
    """Negative control on the first pair: the class without MIX and with nothing added has no model copying the
    mixture until E, so the theorem's hypothesis is false; once the history is long enough the KL exceeds the
    bound (``held`` false). Reported with its own numbers; it does not change the sweep's verdict or exit code.
    In joint mode the class must still explain the history (it predicts the observations too), so the other given
    programs (the demonstrator, the full-support model) are added, and neither MIX nor the construction."""
    import dataclasses

    from aitheory.bounds import switch_cost

    n, event, policy = pair
    obs, actions = _history(args)
    config = dataclasses.replace(_class(args), mix=False, switch=False, switch_max_bits=None)
    demonstrator = _program(args.demonstrator, "--demonstrator") if args.demonstrator is not None else None
    r = switch_cost(obs, event, policy, horizon=args.horizon, actions=actions, class_config=config,
                    add=args.joint, add_construction=not args.joint, demonstrator=demonstrator,
                    mode="joint" if args.joint else "policy", plain_policy=args.plain_policy)
    return {"line": n, "kl_nats": r.kl_nats, "bound_nats": r.bound_nats, "held": r.held,
            "expected": "held false once the data outgrow the bound; true means this history is too short to show "
                        "the failure, not that the bound holds without the construction"}


def _plot(rows: list[dict[str, Any]], out: Path) -> tuple[str, ...]:
    """KL and bound against K(E) + K(P); nothing (a note on stderr) without the plots extra."""
    from aitheory._optional import MissingExtraError

    try:
        from aitheory.plotting import pyplot, save_figure

        plt = pyplot()
    except MissingExtraError as exc:
        print(f"note: no figure ({exc})", file=sys.stderr)
        return ()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    xs = [r["program_bits"] for r in rows]
    ax.plot(xs, [r["bound_nats"] for r in rows], "k_", ms=14, mew=1.5, label=r"bound $[K(E)+K(P)+d]\,\ln 2$")
    for promised, marker, label in ((True, "o", "KL (Def. 2), unprecedented event"),
                                    (False, "x", "KL (Def. 2), bound not promised")):
        pts = [r for r in rows if r["bound_promised"] == promised]
        if pts:
            ax.plot([r["program_bits"] for r in pts], [r["kl_nats"] if math.isfinite(r["kl_nats"]) else math.nan
                                                        for r in pts], marker, label=label)
    ax.set_xlabel("K(E) + K(P): bits of the event and the policy")
    ax.set_ylabel("nats")
    ax.set_title(f"KL of the switch against program length (d = {rows[0]['d_bits']} bits)", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, out / "kl_vs_bits")
    return ("kl_vs_bits",)
