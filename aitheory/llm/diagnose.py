"""Credence in silence: how much a base model believes in empty turns after the paper's prompt.

The paper's mechanism needs a base model that, after a few silent exchanges, predicts more silence: then a
silent teacher turn is cheap in KL and the (base-model) student's own chance of an empty reply is high. This
diagnostic measures both, with no training, on the transcript

``<paper prompt with the teacher's last turn cut to "Teacher:">`` + ``n`` x (``"\\n\\nStudent:"`` +
``"\\n\\nTeacher:"``)

whose pieces are tokenised separately and concatenated (as the environment appends tokens). For the n-th
exchange (n = 1, 2, ...) it reports:

* ``teacher_silence_nats``: ``-ln beta("\\n\\nStudent:" | context)``, the KL an agent pays (in the sampled
  log-ratio) to force that silent teacher turn when ``x`` puts all its mass on it;
* ``student_silence_prob``: ``beta("\\n\\nTeacher:" | context)`` at temperature 1, the base model's probability
  that the student's reply is empty; ``student_silence_prob_t`` is the same at the student's sampling
  temperature (per-token softmax of ``logits / T``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitheory.llm._torch import torch
from aitheory.llm.config import LLMConfig

__all__ = ["SilenceRow", "credence_in_silence", "silence_context"]


@dataclass(frozen=True)
class SilenceRow:
    """One silent exchange: teacher's cost (nats) and the student's chance of an empty reply."""

    n: int
    teacher_silence_nats: float
    student_silence_prob: float
    student_silence_prob_t: float


def silence_context(config: LLMConfig) -> str:
    """The paper's prompt with its unfinished teacher turn cut back to the teacher marker."""
    prompt = config.prompt
    cut = prompt.rfind(config.teacher_marker)
    if cut < 0:
        raise ValueError(f"the prompt does not contain the teacher marker {config.teacher_marker!r}")
    return prompt[: cut + len(config.teacher_marker)]


@torch.no_grad()
def credence_in_silence(model: Any, tokenizer: Any, config: LLMConfig, exchanges: int = 6) -> list[SilenceRow]:
    """Per silent exchange: ``-ln beta(silent teacher turn)`` and the student's empty-reply probability."""

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    teacher = ids("\n\n" + config.student_marker)
    student = ids("\n\n" + config.teacher_marker)
    seq = ids(silence_context(config))
    spans: list[tuple[str, int, int]] = []
    for _ in range(exchanges):
        spans.append(("teacher", len(seq), len(seq) + len(teacher)))
        seq += teacher
        spans.append(("student", len(seq), len(seq) + len(student)))
        seq += student
    device = next(model.parameters()).device
    logits = model(input_ids=torch.tensor([seq], device=device)).logits[0].float()
    target = torch.tensor(seq[1:], device=device)
    lp = torch.log_softmax(logits[:-1], -1).gather(1, target.unsqueeze(1)).squeeze(1)
    lp_t = torch.log_softmax(logits[:-1] / config.student_temperature, -1).gather(1, target.unsqueeze(1)).squeeze(1)
    rows = []
    for n in range(exchanges):
        _, t0, t1 = spans[2 * n]
        _, s0, s1 = spans[2 * n + 1]
        rows.append(
            SilenceRow(
                n=n + 1,
                teacher_silence_nats=float(-lp[t0 - 1 : t1 - 1].sum()),
                student_silence_prob=float(lp[s0 - 1 : s1 - 1].sum().exp()),
                student_silence_prob_t=float(lp_t[s0 - 1 : s1 - 1].sum().exp()),
            )
        )
    return rows
