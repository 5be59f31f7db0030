"""Run a program over the whole tree of observation sequences, sharing every common prefix of the run.

After t emitted actions the machine runs until its next emission (or until it stops). During that interval a
``,`` loads ``o_t``, the only observation it can read there. So the run up to the first ``,`` of the interval is
shared by all values of ``o_t``: the machine state is *snapshotted* at that ``,`` and the run *resumes* once per
value of ``o_t`` (K copies). An interval with no ``,`` does not depend on ``o_t`` at all and is run once. The
work is therefore proportional to the number of distinct behaviours, not to ``K^(H-1)`` observation sequences,
and every branch gives exactly what :func:`aitheory.dsl.reference.run_reference` gives on that sequence.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from aitheory.dsl.codes import CLOSE, COMMA, DOT, LEFT, OPEN, PLUS, RIGHT, TILDE
from aitheory.dsl.parser import Plain, parse
from aitheory.dsl.reference import (
    DEFAULT_STEPS,
    DEFAULT_TAPE_BOUND,
    TILDE_ACTION,
    RunResult,
    bracket_matches,
    check_run_args,
)
from aitheory.dsl.status import Status

__all__ = ["Interval", "ObsTree", "run_tree"]

_READ = "read"


@dataclass
class _Machine:
    """Mutable machine state (copied at a snapshot). Same semantics as the reference interpreter."""

    codes: list[int]
    match: list[int]
    k: int
    steps: int
    tape_bound: int
    detect: bool
    tape: dict[int, int] = field(default_factory=dict)
    head: int = 0
    pc: int = 0
    total: int = 0
    since: int = 0
    jumps: int = 0
    saved: tuple[int, int, frozenset[tuple[int, int]]] | None = None
    obs: int | None = 0  # value a ``,`` loads; None: not yet chosen (stop at the first ``,``)

    def run(self) -> tuple[str, int]:
        """Run until an emission (``("emit", action)``), a ``,`` whose value is not chosen (``("read", 0)``)
        or the end of the run (``(status, 0)``)."""
        last = len(self.codes) - 1
        while True:
            if self.since == self.steps:
                return Status.TIMED_OUT.label, 0
            op = self.codes[self.pc]
            if op == COMMA and self.obs is None:
                return _READ, 0
            self.total += 1
            self.since += 1
            self.pc += 1
            if op == PLUS:
                self.tape[self.head] = (self.tape.get(self.head, 0) + 1) % self.k
            elif op in (LEFT, RIGHT):
                self.head += 1 if op == RIGHT else -1
                if abs(self.head) > self.tape_bound:
                    return Status.OUT_OF_TAPE.label, 0
            elif op in (DOT, TILDE):
                self.since, self.saved, self.jumps = 0, None, 0
                return "emit", self.tape.get(self.head, 0) if op == DOT else TILDE_ACTION
            elif op == COMMA:
                self.tape[self.head] = self.obs  # type: ignore[assignment]
            elif op == OPEN:
                if self.tape.get(self.head, 0) == 0:
                    self.pc = self.match[self.pc - 1] + 1
            elif op == CLOSE:
                if self.pc - 1 == last:
                    return Status.HALTED.label, 0
                if self.tape.get(self.head, 0) != 0:
                    self.pc = self.match[self.pc - 1] + 1
                    if self.detect and self._cycle():
                        return Status.PROVEN_SILENT.label, 0

    def _cycle(self) -> bool:
        self.jumps += 1
        state = (self.pc, self.head, frozenset((c, v) for c, v in self.tape.items() if v))
        if state == self.saved:
            return True
        if self.jumps & (self.jumps - 1) == 0:
            self.saved = state
        return False


@dataclass(frozen=True)
class Interval:
    """What happens after ``t`` emissions: the next action (``action``, at global ``step``, then ``child``),
    or the end of the run (``status``, after ``step`` steps in total)."""

    action: int | None
    step: int
    status: str | None
    child: ObsTree | None


@dataclass(frozen=True)
class ObsTree:
    """The run after ``t`` emissions. ``by_obs`` has one :class:`Interval` per value of ``o_t`` if the interval
    reads ``o_t`` (``reads``), else a single shared one."""

    t: int
    reads: bool
    by_obs: tuple[Interval, ...]

    def interval(self, o: int) -> Interval:
        return self.by_obs[o] if self.reads else self.by_obs[0]

    def lookup(self, obs: Sequence[int]) -> RunResult:
        """The run on observations ``obs`` (``obs[t-1] = o_t``), as :func:`run_reference` reports it."""
        actions: list[int] = []
        steps: list[int] = []
        node: ObsTree | None = self
        while node is not None:
            iv = node.interval(int(obs[node.t - 1]) if node.reads else 0)
            if iv.status is not None:
                return RunResult(tuple(actions), tuple(steps), iv.status, iv.step)
            assert iv.action is not None
            actions.append(iv.action)
            steps.append(iv.step)
            node = iv.child
        raise AssertionError("a tree path ends with a status")  # pragma: no cover

    def n_nodes(self) -> int:
        """Number of tree nodes (a measure of the work done)."""
        return 1 + sum(iv.child.n_nodes() for iv in self.by_obs if iv.child is not None)

    def behaviours(self, k: int, horizon: int) -> Iterator[tuple[tuple[int, ...], RunResult]]:
        """Every observation sequence ``o_1 .. o_{H-1}`` with its run (K^(H-1) pairs; small H only)."""
        for obs in itertools.product(range(k), repeat=horizon - 1):
            yield obs, self.lookup(obs)


def _expand(m: _Machine, t: int, horizon: int) -> ObsTree:
    """Build the subtree after ``t`` emissions from machine ``m`` (consumed)."""
    m.obs = None if t > 0 else 0
    event, value = m.run()
    if event == _READ:
        out = []
        for o in range(m.k):
            branch = copy.deepcopy(m) if o < m.k - 1 else m
            branch.obs = o
            ev, val = branch.run()
            out.append(_finish(branch, ev, val, t, horizon))
        return ObsTree(t, True, tuple(out))
    return ObsTree(t, False, (_finish(m, event, value, t, horizon),))


def _finish(m: _Machine, event: str, value: int, t: int, horizon: int) -> Interval:
    if event != "emit":
        return Interval(None, m.total, event, None)
    step = m.total
    if t + 1 == horizon:
        return Interval(value, step, None, ObsTree(t + 1, False, (Interval(None, step, Status.EMITTED.label, None),)))
    return Interval(value, step, None, _expand(m, t + 1, horizon))


def run_tree(
    program: Plain | str | Sequence[int],
    k: int = 2,
    horizon: int = 8,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    detect_cycles: bool = True,
) -> ObsTree:
    """The program's runs on every observation sequence ``o_1 .. o_{H-1}``, as a tree (see module docstring)."""
    if isinstance(program, str):
        program = parse(program)
    codes = list(program.codes) if isinstance(program, Plain) else [int(c) for c in program]
    check_run_args(k, horizon, steps, tape_bound, None)
    machine = _Machine(codes, bracket_matches(codes), k, steps, tape_bound, detect_cycles)
    return _expand(machine, 0, horizon)
