"""``aitheory mixture predict``: the Bayes mixture over BF-8 programs on a given history, step by step."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from aitheory.cli import EXIT_OK, UserInputError
from aitheory.cli._common import parse_symbols, positive_int, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mixture", help="the Bayes mixture xi over BF-8 programs")
    sub = parser.add_subparsers(dest="mixture_command", metavar="SUBCOMMAND")
    sub.required = True
    predict = sub.add_parser(
        "predict",
        help="xi(a | h) at every step of a history: three predictors, missing mass, top programs (JSON)",
        description=(
            "Builds the class (every plain program up to --max-bits bits, SWITCH programs and MIX up to the "
            "same full-grammar length) on the given observations, then prints one JSON object with, for every "
            "step t = 1 .. len(actions) + 1: the raw semimeasure xi(a | h_<t), its normalisation, the "
            "predictions with the missing mass as an extra symbol, the missing mass by cause, the posterior's "
            "entropy and mass per program kind, and the top programs by posterior."
        ),
    )
    predict.add_argument("--max-bits", type=positive_int, default=24,
                         help="plain programs of at most this many bits (3 per token; default 24)")
    predict.add_argument("--actions", required=True, help="actions a_1 a_2 ... as digits ('0101') or 0,1,0,1")
    predict.add_argument("--obs", default=None,
                         help="observations o_1 o_2 ... (default: all 0; fewer than the actions are padded with 0)")
    predict.add_argument("--top", type=int, default=5, help="programs to list per step (default 5)")
    predict.add_argument("--K", dest="k", type=int, default=2, help="alphabet size K (default 2)")
    predict.add_argument("--steps", type=positive_int, default=1000, help="step budget T per emission (1000)")
    predict.add_argument("--no-switch", action="store_true", help="leave SWITCH programs out of the class")
    predict.add_argument("--no-mix", action="store_true", help="leave MIX out of the class")
    predict.add_argument("--switch-max-bits", type=positive_int, default=None,
                         help="cap on SWITCH programs' full-grammar length (default: max-bits + 1)")
    predict.add_argument("--workers", type=positive_int, default=1, help="local processes for enumeration")
    predict.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    predict.set_defaults(func=_predict)


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _predict(args: argparse.Namespace) -> int:
    from aitheory.mixture import ClassConfig, OnlineMixture, build_class
    from aitheory.mixture.classes import ClassTooLargeError, check_switch_parts

    if not 2 <= args.k <= 127:
        raise UserInputError(f"--K must be in 2..127, got {args.k}")
    actions = parse_symbols(args.actions, args.k, "--actions") or []
    if not actions:
        raise UserInputError("--actions: give at least one action")
    obs = parse_symbols(args.obs, args.k, "--obs") or []
    if len(obs) > len(actions):
        raise UserInputError(f"--obs: {len(obs)} observations for {len(actions)} actions; o_t follows a_t, so at "
                             "most one per action")
    assumed = len(actions) - len(obs)
    if assumed and args.obs is not None:
        print(f"note: the last {assumed} observations are taken to be 0", file=sys.stderr)
    obs = obs + [0] * assumed
    try:
        config = ClassConfig(max_bits=args.max_bits, k=args.k, horizon=len(actions) + 1, steps=args.steps,
                             switch=not args.no_switch, mix=not args.no_mix, switch_max_bits=args.switch_max_bits)
        check_switch_parts(config, n_histories=1)
    except ClassTooLargeError as exc:
        raise UserInputError(str(exc).replace("switch_max_bits", "--switch-max-bits", 2)) from None
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    start = time.perf_counter()
    model_class = build_class(config, observations=[tuple(obs)], workers=args.workers, scheduler=args.scheduler,
                              show_progress=True)
    built = time.perf_counter() - start
    online = OnlineMixture(model_class)
    steps = []
    for t in range(len(actions) + 1):
        step = online.predict(top=args.top)
        steps.append({
            "t": step.t,
            "action": actions[t] if t < len(actions) else None,
            "raw": _floats(step.raw),
            "normalised": _floats(step.normalised),
            "with_missing": _floats(step.with_missing),
            "missing": step.missing,
            "log_evidence": step.log_evidence,
            "posterior_entropy": step.posterior_entropy,
            "kind_mass": step.kind_mass,
            "unenumerated_bound": step.unenumerated_bound,
            "top": [{"program": p.program, "bits": p.bits, "kind": p.kind, "posterior": p.posterior}
                    for p in step.top],
        })
        if t < len(actions):
            try:
                online.update(actions[t], obs[t])
            except ValueError as exc:
                raise UserInputError(str(exc)) from None
    print_json({
        "class": {
            "max_bits": config.max_bits,
            "rows": model_class.rows,
            "programs": model_class.programs_by_kind,
            "enumerated_mass": {k: float(v) for k, v in model_class.enumerated_mass().items()},
            "not_enumerated_mass": float(model_class.not_enumerated_mass()),
            "seconds": built,
        },
        "observations": obs,
        "observations_assumed_zero": assumed,
        "units": "probabilities; log_evidence and posterior_entropy in nats; bits are full-grammar lengths",
        "steps": steps,
    })
    return EXIT_OK
