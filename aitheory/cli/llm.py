"""``aitheory llm ...``: the paper's LLM experiment (KL-budgeted PPO on a teacher/student chat).

Subcommands: ``train`` (a run folder with config, metrics, transcripts, checkpoints; ``--resume``),
``evaluate RUN_DIR`` (empty-response statistics from the transcripts), ``figures RUN_DIR...`` (Figures 2-4),
``diagnose --model M`` (the base model's credence in silence), ``exploits`` (the scripted-teacher exploit
map). torch and transformers are imported only
inside the commands, so ``aitheory --help`` works without the ``llm`` extra.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aitheory.cli import GROUPS, UserInputError
from aitheory.cli._common import positive_float, positive_int, print_json
from aitheory.results import RunFolder, RunFolderError, check_out_path, claim_new_run_folder


def _add_config_arguments(parser: argparse.ArgumentParser, budget: bool = False) -> None:
    """``--config``, ``--episode-tokens``, ``--set FIELD=VALUE`` and, with ``budget``, ``--budget``: the
    configuration of a run (read by :func:`_config`)."""
    parser.add_argument("--config", default="smoke", help="smoke, cpu, cpu16 or paper (default smoke)")
    parser.add_argument(
        "--episode-tokens", type=positive_int, default=None, help="episode length in tokens, prompt included"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any configuration field (repeatable), e.g. --set n_envs=8",
    )
    if budget:
        parser.add_argument("--budget", type=positive_float, default=None, help="per-episode KL budget B in nats")


def _add_run_folder_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """``--out`` (the run folder, ``runs/<default>`` if not given) and ``--overwrite``."""
    parser.add_argument("--out", type=check_out_path, default=None,
                        help=f"run folder (default runs/{default}); one holding a run is refused")
    parser.add_argument("--overwrite", action="store_true", help="clear --out first if it holds a run")


def register(sub: argparse._SubParsersAction) -> None:
    llm = sub.add_parser(
        "llm",
        help=GROUPS["llm"],
        description="Train, evaluate and plot the paper's KL-budgeted chat agent (needs the llm extra).",
    )
    cmds = llm.add_subparsers(dest="llm_command", metavar="COMMAND")
    cmds.required = True

    train = cmds.add_parser(
        "train",
        help="train the budgeted agent with PPO and write a run folder",
        description=(
            "Train the actor head and critic with PPO on the teacher/student chat. Writes config.json, "
            "metrics.csv, transcripts/iter_NNNNN.jsonl and checkpoints/latest.pt into the run folder."
        ),
    )
    _add_config_arguments(train, budget=True)
    _add_run_folder_arguments(train, "llm-<config>-b<B>-<timestamp>")
    train.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint (its saved config)"
    )
    train.add_argument("--max-iterations", type=positive_int, default=None, help="stop after this many PPO updates")
    train.set_defaults(func=_train)

    evaluate = cmds.add_parser(
        "evaluate",
        help="empty-response statistics of a run's transcripts",
        description=(
            "Summarise a run's transcripts: reward, KL spent, fraction of empty teacher turns (<= 4 tokens), "
            "KL spent on the n-th empty response. Writes RUN_DIR/evaluation.json and prints it."
        ),
    )
    evaluate.add_argument("run_dir", help="a run folder written by 'aitheory llm train'")
    evaluate.add_argument("--last", type=positive_int, default=1, help="use the last N transcript files (default 1)")
    evaluate.add_argument(
        "--control",
        action="append",
        default=None,
        help="a control run folder ('aitheory llm control') to compare with, per episode length (repeatable: "
        "controls of different lengths are pooled)",
    )
    evaluate.set_defaults(func=_evaluate)

    ctrl = cmds.add_parser(
        "control",
        help="base-model transcripts (no agent) for comparison",
        description=(
            "Play episodes in which the teacher samples from the base model itself, and save their "
            "transcripts in a run folder that 'evaluate' and 'figures' read like a training run."
        ),
    )
    _add_config_arguments(ctrl)
    ctrl.add_argument("--rollouts", type=positive_int, default=1, help="rollouts of n_envs episodes (default 1)")
    _add_run_folder_arguments(ctrl, "llm-<config>-control-<timestamp>")
    ctrl.set_defaults(func=_control, budget=None)

    figures = cmds.add_parser(
        "figures",
        help="Figures 2-4 from saved transcripts",
        description=(
            "Figure 2 (transcript coloured by per-token KL, HTML and PNG), Figure 3 (KL spent on the n-th "
            "empty response, quantiles), Figure 4 (fraction of empty teacher turns per episode), and the "
            "training curves of runs that have a metrics.csv."
        ),
    )
    figures.add_argument("run_dirs", nargs="+", help="run folders (one curve/histogram each)")
    figures.add_argument("--out", type=check_out_path, default=None,
                         help="output folder (default: the first run folder)")
    figures.add_argument(
        "--last", type=positive_int, default=1,
        help="use the last N iterations of each phase (default 1); base-model phases (controls) whole",
    )
    figures.add_argument(
        "--phases", type=_stages, default=None, metavar="STAGES",
        help="comma-separated stages to draw, of base, ramp, full (default: the phases of each run's last "
        "N iterations); a control run gives its base-model phases",
    )
    figures.set_defaults(func=_figures)

    exploits = cmds.add_parser(
        "exploits",
        help="which scripted teacher the environment rewards (the exploit map), before training",
        description=(
            "Play the configuration's environment with scripted teachers (base, always-empty, short turns then "
            "hand over, budget-feasible silence through the KL fixed mixture) and print, per teacher, the return, "
            "KL per episode and per turn, forgiven budget, empty fraction and the student's reply after silence."
        ),
    )
    _add_config_arguments(exploits, budget=True)
    exploits.add_argument("--rollouts", type=positive_int, default=1, help="rollouts per teacher (default 1)")
    exploits.add_argument(
        "--teachers", default="base,empty,short,silent", help="comma-separated teachers (default all four)"
    )
    exploits.add_argument(
        "--short-tokens", type=positive_int, default=4, help="base tokens of the short teacher's turns (default 4)"
    )
    exploits.add_argument("--json", default=None, metavar="FILE", help="also write the rows as JSON to FILE")
    exploits.set_defaults(func=_exploits)

    diagnose = cmds.add_parser(
        "diagnose",
        help="the base model's credence in silence after the paper's prompt",
        description=(
            "For n silent exchanges after the paper's prompt: the KL cost (nats) of a silent teacher turn "
            "and the student's probability of an empty reply, under the base model."
        ),
    )
    diagnose.add_argument("--model", default="smollm2", help="smollm2, tiny-gpt2 or a transformers model id/path")
    diagnose.add_argument("--exchanges", type=positive_int, default=6, help="silent exchanges (default 6)")
    diagnose.set_defaults(func=_diagnose)


@contextmanager
def _first_line_of(*errors: type[Exception]) -> Iterator[None]:
    """``errors`` raised inside (a model that cannot be loaded, a refused checkpoint) as a
    :class:`~aitheory.cli.UserInputError` with the first line of their message."""
    try:
        yield
    except errors as exc:
        raise UserInputError(str(exc).splitlines()[0]) from None


@contextmanager
def _reading_transcripts(what: str) -> Iterator[None]:
    """A missing file (its message) or a transcript that is not JSON lines of episodes (``what`` cannot be read,
    and why, on one line) raised inside, as a :class:`~aitheory.cli.UserInputError`."""
    try:
        yield
    except FileNotFoundError as exc:
        raise UserInputError(str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise UserInputError(f"{what} cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())})") from None


def _names(text: str, allowed: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The comma-separated names in ``text`` and, if any is not in ``allowed`` or there is none, the bad ones
    (``"(none given)"`` for none) for the error message; ``None`` when all are good."""
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in names if s not in allowed]
    return names, ((", ".join(bad) or "(none given)") if bad or not names else None)


def _config(args: argparse.Namespace) -> Any:
    from aitheory.llm.config import get_config, with_overrides

    try:
        config = get_config(args.config)
        overrides: dict[str, Any] = {}
        if args.budget is not None:
            overrides["budget"] = args.budget
        if args.episode_tokens is not None:
            overrides["episode_tokens"] = args.episode_tokens
        config = with_overrides(config, overrides)
        return with_overrides(config, args.set)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None


def _train(args: argparse.Namespace) -> int:
    from aitheory.llm.models import ModelLoadError
    from aitheory.llm.ppo import CHECKPOINT, CheckpointError, train
    from aitheory.progress import progress_enabled

    if args.resume:
        if args.out is None or not Path(args.out, CHECKPOINT).exists():
            raise UserInputError(f"--resume needs --out pointing at a run folder with {CHECKPOINT}")
        config = _resume_config(args)
    else:
        config = _config(args)
        claim_new_run_folder(args.out, overwrite=args.overwrite)
    bar = None
    if progress_enabled():
        from tqdm.auto import tqdm

        bar = tqdm(total=config.total_tokens, unit="tok", dynamic_ncols=True, desc=f"llm {config.name}")

    def report(row: dict[str, Any]) -> None:
        if bar is not None:
            bar.n = min(int(row["agent_tokens"]), config.total_tokens)
            bar.set_postfix(
                reward=f"{row['reward_mean']:.2f}",
                kl=f"{row['kl_spent_mean']:.2f}",
                empty=f"{row['empty_fraction']:.2f}",
            )
            bar.refresh()
        else:  # a log line per PPO iteration where no bar is shown (nohup, pipes, CI)
            print(
                f"iteration {int(row['iteration'])}: {int(row['agent_tokens'])}/{config.total_tokens} agent tokens, "
                f"B={row['budget']:.2f} reward={row['reward_mean']:.3f} kl={row['kl_spent_mean']:.2f} "
                f"empty={row['empty_fraction']:.3f} ({row['seconds']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    try:
        with _first_line_of(ModelLoadError, CheckpointError):
            path = train(
                config, out=args.out, resume=args.resume, max_iterations=args.max_iterations, on_iteration=report
            )
    finally:
        if bar is not None:
            bar.close()
    print(path)
    return 0


def _resume_config(args: argparse.Namespace) -> Any:
    """The configuration ``--resume`` continues: the saved one, or the one the options ask for, which must be the
    saved one (:meth:`aitheory.results.RunFolder.open` compares them, as for every run folder), so options that
    would change it are refused (not ignored) and a resumed run is never a mixture of two configurations.

    The folder is opened here, before the model loads; its temporary files of a killed run are removed."""
    from aitheory.llm.ppo import TRAIN_KIND, load_run_config

    asks = bool(args.set or args.budget is not None or args.episode_tokens is not None or args.config != "smoke")
    config = _config(args) if asks else load_run_config(args.out)
    try:
        RunFolder.open(args.out, TRAIN_KIND, config, seed=config.seed)
    except RunFolderError as exc:
        raise UserInputError(f"--resume: {exc}; or drop the options to continue it") from None
    return config


def _evaluate(args: argparse.Namespace) -> int:
    from aitheory.llm.evaluate import evaluate_run

    with _reading_transcripts(f"{args.run_dir}: its transcripts"):
        summary = evaluate_run(args.run_dir, last=args.last, control_dir=args.control)
    print_json(summary)
    return 0


def _control(args: argparse.Namespace) -> int:
    from aitheory.llm.models import ModelLoadError
    from aitheory.llm.ppo import control

    config = _config(args)
    claim_new_run_folder(args.out, overwrite=args.overwrite)
    with _first_line_of(ModelLoadError):
        print(control(config, out=args.out, rollouts=args.rollouts))
    return 0


def _figures(args: argparse.Namespace) -> int:
    from aitheory.llm.figures import make_figures

    _distinct_names(args.run_dirs)
    out = Path(args.out) if args.out else Path(args.run_dirs[0])
    with _reading_transcripts(f"{' '.join(args.run_dirs)}: transcripts"):
        paths = make_figures(args.run_dirs, out, last=args.last, stages=args.phases)
    for p in paths:
        print(p)
    return 0


def _stages(text: str) -> tuple[str, ...]:
    """``--phases``: comma-separated stages of the schedule (:data:`aitheory.llm.evaluate.STAGES`)."""
    from aitheory.llm.evaluate import STAGES

    stages, unknown = _names(text, STAGES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown stage {unknown}; choose from {', '.join(STAGES)}")
    return stages


def _distinct_names(run_dirs: list[str]) -> None:
    """Figures label (and key) runs by folder name: two different folders with one name are refused."""
    seen: dict[str, Path] = {}
    for d in run_dirs:
        path = Path(d).resolve()
        other = seen.setdefault(path.name, path)
        if other != path:
            raise UserInputError(f"run folders {str(other)!r} and {str(path)!r} have the same name {path.name!r}, "
                                 "which labels their curves; rename one (or link it under another name)")
        if not path.is_dir():
            raise UserInputError(f"run folder {d!r}: not a folder")


def _exploits(args: argparse.Namespace) -> int:
    import dataclasses

    from aitheory.llm.exploits import TEACHERS, exploit_map, format_table
    from aitheory.llm.models import ModelLoadError, load_base
    from aitheory.llm.rewards import make_reward
    from aitheory.results import write_json

    teachers, unknown = _names(args.teachers, TEACHERS)
    if unknown:
        raise UserInputError(f"--teachers: unknown {unknown}; choose from {', '.join(TEACHERS)}")
    config = _config(args)
    if config.threads is not None:
        import torch

        torch.set_num_threads(config.threads)
    with _first_line_of(ModelLoadError):
        model, tokenizer = load_base(config)
    reward = make_reward(config.reward, device=None if config.device == "cpu" else config.device)
    rows = exploit_map(
        config, model, tokenizer, reward, teachers, rollouts=args.rollouts, short_tokens=args.short_tokens
    )
    print(
        f"{config.name}: B={config.budget:g} nats, {config.episode_tokens}-token episodes, reply cutoff "
        f"{config.reply_cutoff}, student T={config.student_temperature:g}, {config.budget_accounting} bookkeeping, "
        f"{rows[0].episodes} episodes per teacher"
    )
    print(format_table(rows))
    if args.json:
        write_json(
            Path(args.json), {"config": dataclasses.asdict(config), "rows": [dataclasses.asdict(r) for r in rows]}
        )
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    from aitheory.llm.config import get_config, with_overrides
    from aitheory.llm.diagnose import credence_in_silence
    from aitheory.llm.models import ModelLoadError, load_base

    if args.model == "smollm2":
        config = get_config("cpu")
    elif args.model == "tiny-gpt2":
        config = get_config("smoke")
    else:
        config = with_overrides(get_config("cpu"), {"model": args.model, "tokenizer": None})
    with _first_line_of(ModelLoadError):
        model, tokenizer = load_base(config)
    rows = credence_in_silence(model, tokenizer, config, exchanges=args.exchanges)
    temp = f"at T={config.student_temperature:g}"
    print(f"{'n':>3} {'teacher silence (nats)':>24} {'P(student empty)':>18} {temp:>12}")
    for r in rows:
        print(
            f"{r.n:>3} {r.teacher_silence_nats:>24.3f} {r.student_silence_prob:>18.4f} "
            f"{r.student_silence_prob_t:>12.4f}"
        )
    total = sum(r.teacher_silence_nats for r in rows)
    print(f"total: {total:.3f} nats for {len(rows)} silent teacher turns")
    return 0
