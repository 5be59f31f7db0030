"""BF-8: the tiny universal language behind the Solomonoff-style mixture (design.md section 2).

Layer: bottom. Imports only numpy, numba and aitheory infrastructure (results, progress, parallel,
_optional). Public API:

- text and codes: :func:`parse`, :func:`parse_expr`, :func:`format_expr`, :class:`Plain`, :class:`Switch`,
  :class:`Mix`, :class:`Opt`, :class:`Act` (a policy-only P of SWITCH), :func:`encode_bits`, :func:`decode_bits`,
  :func:`expr_bits`, :class:`ParseError`;
- counts: :func:`program_count`, :func:`program_count_bits`, :func:`kraft_mass`, :func:`kraft_mass_bits`;
- events: :func:`first_hold_times` (numba: the first step at which each detector holds), and its exhaustive-search
  form :func:`aitheory.dsl.first_hold_search.first_hold_block` (a block of detectors on several streams at once);
- modes (design.md section 2, "Joint mode"): :data:`MODES`, :func:`emission_role`, :func:`interleave`,
  :func:`split_history`; every runner takes ``mode="policy"`` (default) or ``mode="joint"``;
- limits: :data:`LIMITS`, a :class:`MachineLimits` (the caps on K, H, T, B and the enumeration, one home);
- running: :func:`run_reference` (the oracle), :func:`run_batch` (numba), :func:`run_batch_all` (numba, every
  observation sequence at once), :func:`run_tree` (the same as a tree, pure Python), :func:`predict` /
  :func:`event_holds` (combinators);
- enumeration: :func:`blocks`, :func:`enumerate_block`, :func:`all_programs`, :func:`program_at`;
- statuses and behaviour codes (one home, :mod:`aitheory.dsl.status`): :class:`Status`, :data:`STATUSES`,
  :data:`TILDE_ACTION`, :data:`NO_ACTION`, :func:`emission_probs`;
- behaviour tables: :class:`EnumConfig`, :func:`behaviour_table`, :class:`BehaviourTable`,
  :func:`save_table`, :func:`load_table`, :func:`table_summary`.
"""

from __future__ import annotations

from aitheory.dsl.behaviour import (
    BehaviourTable,
    EnumConfig,
    behaviour_table,
    load_table,
    save_table,
    table_summary,
)
from aitheory.dsl.codes import TOKENS, kraft_mass, kraft_mass_bits, program_count, program_count_bits
from aitheory.dsl.combinators import event_holds, predict, unprecedented_at
from aitheory.dsl.enumerate import Block, all_programs, blocks, enumerate_block, index_bits, program_at
from aitheory.dsl.events import FirstHolds, first_hold_times
from aitheory.dsl.fast import BatchResult, pack_programs, run_batch
from aitheory.dsl.fast_tree import AllSequencesResult, all_sequences, run_batch_all
from aitheory.dsl.limits import LIMITS, MachineLimits
from aitheory.dsl.parser import (
    Act,
    Dyadic,
    Expr,
    Mix,
    Opt,
    ParseError,
    Plain,
    Switch,
    decode_bits,
    encode_bits,
    expr_bits,
    format_expr,
    parse,
    parse_expr,
)
from aitheory.dsl.reference import (
    DEFAULT_STEPS,
    DEFAULT_TAPE_BOUND,
    MODES,
    ROLES,
    Mode,
    RunResult,
    check_mode,
    emission_role,
    interleave,
    run_reference,
    split_history,
)
from aitheory.dsl.status import NO_ACTION, STATUSES, TILDE_ACTION, Status, emission_probs
from aitheory.dsl.tree import ObsTree, run_tree

__all__ = [
    "DEFAULT_STEPS",
    "DEFAULT_TAPE_BOUND",
    "LIMITS",
    "MODES",
    "NO_ACTION",
    "ROLES",
    "STATUSES",
    "TILDE_ACTION",
    "TOKENS",
    "Act",
    "AllSequencesResult",
    "BatchResult",
    "BehaviourTable",
    "Block",
    "Dyadic",
    "EnumConfig",
    "Expr",
    "FirstHolds",
    "MachineLimits",
    "Mix",
    "Mode",
    "ObsTree",
    "Opt",
    "ParseError",
    "Plain",
    "RunResult",
    "Status",
    "Switch",
    "all_programs",
    "all_sequences",
    "behaviour_table",
    "blocks",
    "check_mode",
    "decode_bits",
    "emission_probs",
    "emission_role",
    "encode_bits",
    "enumerate_block",
    "event_holds",
    "expr_bits",
    "first_hold_times",
    "format_expr",
    "index_bits",
    "interleave",
    "kraft_mass",
    "kraft_mass_bits",
    "load_table",
    "pack_programs",
    "parse",
    "parse_expr",
    "predict",
    "program_at",
    "program_count",
    "program_count_bits",
    "run_batch",
    "run_batch_all",
    "run_reference",
    "run_tree",
    "save_table",
    "split_history",
    "table_summary",
    "unprecedented_at",
]
