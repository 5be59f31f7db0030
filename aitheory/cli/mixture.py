"""``aitheory mixture predict``: the Bayes mixture over BF-8 programs on a given history, step by step.

Policy mode (the default): programs predict the actions ``--actions`` on the observations ``--obs``. Joint mode
(``--joint``): programs predict every symbol of the interleaved history ``--history a_1 o_1 a_2 ...``, so the
output has the action predictions ``xi(a_t | h)`` at odd positions and the observation predictions
``xi(o_t | h a_t)`` at even ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from aitheory.cli import EXIT_OK, GROUPS, UserInputError
from aitheory.cli._common import enumeration_bits, int_in, parse_symbols, positive_int, print_json, workers_count
from aitheory.dsl.limits import LIMITS

if TYPE_CHECKING:
    from aitheory.dsl.reference import Mode


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mixture", help=GROUPS["mixture"])
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
    predict.add_argument("--max-bits", type=enumeration_bits, default=24,
                         help="plain programs of at most this many bits (3 per token; default 24)")
    predict.add_argument("--actions", default=None,
                         help="policy mode: actions a_1 a_2 ... as digits ('0101') or 0,1,0,1")
    predict.add_argument("--obs", default=None,
                         help="observations o_1 o_2 ... (default: all 0; fewer than the actions are padded with 0)")
    predict.add_argument("--joint", action="store_true",
                         help="joint mode: programs predict actions and observations (needs --history)")
    predict.add_argument("--history", default=None,
                         help="joint mode: the interleaved history a_1 o_1 a_2 o_2 ... ('0110' or 0,1,1,0)")
    predict.add_argument("--top", type=int_in(0, 10_000), default=5, help="programs to list per step (default 5)")
    predict.add_argument("--K", dest="k", type=LIMITS.argtype("k", "--K"), default=2,
                         help="alphabet size K (default 2)")
    predict.add_argument("--steps", type=LIMITS.argtype("steps"), default=1000,
                         help="step budget T per emission (1000)")
    predict.add_argument("--no-switch", action="store_true", help="leave SWITCH programs out of the class")
    predict.add_argument("--no-mix", action="store_true", help="leave MIX out of the class")
    predict.add_argument("--switch-max-bits", type=positive_int, default=None,
                         help="cap on SWITCH programs' full-grammar length (default: max-bits + 1)")
    predict.add_argument("--workers", type=workers_count, default=1, help="local processes for enumeration")
    predict.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    predict.set_defaults(func=_predict)


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _class_config(args: argparse.Namespace, horizon: int, mode: Mode) -> Any:
    """The class of ``mixture predict``, its size checked before anything is enumerated (exit 2 naming the option)."""
    from aitheory.mixture import ClassConfig
    from aitheory.mixture.classes import ClassTooLargeError, check_switch_parts

    try:
        config = ClassConfig(max_bits=args.max_bits, k=args.k, horizon=horizon, steps=args.steps,
                             switch=not args.no_switch, mix=not args.no_mix, switch_max_bits=args.switch_max_bits,
                             mode=mode)
        check_switch_parts(config, n_histories=1)
    except ClassTooLargeError as exc:
        raise UserInputError(str(exc).replace("switch_max_bits", "--switch-max-bits", 2)) from None
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    return config


def _predict(args: argparse.Namespace) -> int:
    if args.joint or args.history is not None:
        return _predict_joint(args)
    actions = parse_symbols(args.actions, args.k, "--actions") or []
    if not actions:
        raise UserInputError("--actions: give at least one action")
    if len(actions) >= LIMITS.max_horizon:
        raise UserInputError(f"--actions: {len(actions)} actions; at most {LIMITS.max_horizon - 1} (outputs per "
                             "program are held in memory)")
    obs = parse_symbols(args.obs, args.k, "--obs") or []
    if len(obs) > len(actions):
        raise UserInputError(f"--obs: {len(obs)} observations for {len(actions)} actions; o_t follows a_t, so at "
                             "most one per action")
    assumed = len(actions) - len(obs)
    if assumed and args.obs is not None:
        print(f"note: the last {assumed} observations are taken to be 0", file=sys.stderr)
    obs = obs + [0] * assumed
    config = _class_config(args, horizon=len(actions) + 1, mode="policy")
    online, class_record = _online_mixture(args, config, observations=[tuple(obs)])
    steps = []
    for t in range(len(actions) + 1):
        step = online.predict(top=args.top)
        steps.append({
            "t": step.t,
            "action": actions[t] if t < len(actions) else None,
            **_step_record(step),
            "top": _top(step),
        })
        if t < len(actions):
            try:
                online.update(actions[t], obs[t])
            except ValueError as exc:
                raise UserInputError(str(exc)) from None
    print_json({
        "class": class_record,
        "observations": obs,
        "observations_assumed_zero": assumed,
        "units": "probabilities; log_evidence and posterior_entropy in nats; bits are full-grammar lengths",
        "steps": steps,
    })
    return EXIT_OK


def _online_mixture(args: argparse.Namespace, config: Any, **data: Any) -> tuple[Any, dict[str, Any]]:
    """Build the class on ``data`` (``observations=`` or ``histories=`` of :func:`aitheory.mixture.build_class`):
    its online mixture and its record (:func:`_class_record`, with the seconds the build took)."""
    from aitheory.mixture import OnlineMixture, build_class

    start = time.perf_counter()
    model_class = build_class(config, workers=args.workers, scheduler=args.scheduler, show_progress=True, **data)
    return OnlineMixture(model_class), _class_record(model_class, time.perf_counter() - start)


def _step_record(step: Any) -> dict[str, Any]:
    """The fields of one prediction shared by both modes, in output order."""
    return {
        "raw": _floats(step.raw),
        "normalised": _floats(step.normalised),
        "with_missing": _floats(step.with_missing),
        "missing": step.missing,
        "log_evidence": step.log_evidence,
        "posterior_entropy": step.posterior_entropy,
        "kind_mass": step.kind_mass,
        "unenumerated_bound": step.unenumerated_bound,
    }


def _class_record(model_class: Any, built: float) -> dict[str, Any]:
    """The class's size and masses, and the seconds it took to build."""
    return {
        "max_bits": model_class.config.max_bits,
        "rows": model_class.rows,
        "programs": model_class.programs_by_kind,
        "enumerated_mass": {k: float(v) for k, v in model_class.enumerated_mass().items()},
        "not_enumerated_mass": float(model_class.not_enumerated_mass()),
        "seconds": built,
    }


def _top(step: Any) -> list[dict[str, Any]]:
    return [{"program": p.program, "bits": p.bits, "kind": p.kind, "posterior": p.posterior} for p in step.top]


def _predict_joint(args: argparse.Namespace) -> int:
    """Joint mode: every position of the interleaved history and the next one."""
    if not args.joint:
        raise UserInputError("--history: the interleaved history is read in joint mode only; add --joint (policy "
                             "mode takes --actions and --obs)")
    if args.actions is not None or args.obs is not None:
        raise UserInputError("--joint: give the interleaved history with --history, not --actions/--obs")
    if args.history is None:
        raise UserInputError("--joint: give the interleaved history a_1 o_1 a_2 ... with --history")
    history = parse_symbols(args.history, args.k, "--history") or []
    horizon = len(history) // 2 + 1  # positions 1 .. len(history) + 1
    config = _class_config(args, horizon=horizon, mode="joint")
    online, class_record = _online_mixture(args, config, histories=[tuple(history)])
    steps = []
    for n in range(len(history) + 1):
        step = online.predict(top=args.top)
        steps.append({
            "position": step.position,
            "t": step.t,
            "role": step.role,
            "symbol": history[n] if n < len(history) else None,
            **_step_record(step),
            "mix_posterior_ratio": online.mix_posterior_ratio() if config.mix else None,
            "top": _top(step),
        })
        if n < len(history):
            try:
                online.update(history[n]) if step.role == "action" else online.observe(history[n])
            except ValueError as exc:
                raise UserInputError(f"--history: {exc}") from None
    print_json({
        "mode": "joint",
        "class": class_record,
        "history": history,
        "units": "probabilities; log_evidence and posterior_entropy in nats; bits are full-grammar lengths; "
                 "odd positions predict actions a_t, even positions observations o_t",
        "steps": steps,
    })
    return EXIT_OK
