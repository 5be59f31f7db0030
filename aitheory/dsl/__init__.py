"""BF-8: the tiny universal language behind the Solomonoff-style mixture (design.md section 2).

Layer: bottom. Imports only numpy, numba, ``aitheory.results`` and ``aitheory.progress``.
"""

from __future__ import annotations

from aitheory.dsl.codes import TOKENS, kraft_mass, kraft_mass_bits, program_count, program_count_bits
from aitheory.dsl.parser import (
    Expr,
    Mix,
    ParseError,
    Plain,
    Switch,
    decode_bits,
    encode_bits,
    expr_bits,
    parse,
)
from aitheory.dsl.reference import (
    DEFAULT_STEPS,
    DEFAULT_TAPE_BOUND,
    STATUSES,
    TILDE_ACTION,
    RunResult,
    run_reference,
)

__all__ = [
    "DEFAULT_STEPS",
    "DEFAULT_TAPE_BOUND",
    "STATUSES",
    "TILDE_ACTION",
    "TOKENS",
    "Expr",
    "Mix",
    "ParseError",
    "Plain",
    "RunResult",
    "Switch",
    "decode_bits",
    "encode_bits",
    "expr_bits",
    "kraft_mass",
    "kraft_mass_bits",
    "parse",
    "program_count",
    "program_count_bits",
    "run_reference",
]
