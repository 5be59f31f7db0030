"""The batched chat environment: turns, reply cutoff, episode length, rewards, budget bookkeeping."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from aitheory.llm.actor import Actor, Critic  # noqa: E402
from aitheory.llm.config import PAPER_PROMPT  # noqa: E402
from aitheory.llm.env import EpisodeSettings, n_features, run_episodes  # noqa: E402
from aitheory.llm.models import tiny_tokenizer  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread(restore_torch_threads: None) -> None:
    torch.set_num_threads(1)


class ScriptedLM(torch.nn.Module):
    """A stand-in base model: after the prompt it predicts the ids of ``script``, position by position."""

    def __init__(self, vocab: int, prompt_len: int, script: list[int], hidden: int = 4) -> None:
        super().__init__()
        self.config = SimpleNamespace(hidden_size=hidden)
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.vocab, self.prompt_len, self.script, self.hidden = vocab, prompt_len, script, hidden

    def forward(self, input_ids: Any, past_key_values: Any = None, **_: Any) -> Any:
        start = 0 if past_key_values is None else past_key_values
        end = start + input_ids.shape[1]
        n = input_ids.shape[0]
        logits = torch.full((n, input_ids.shape[1], self.vocab), -60.0)
        nxt = self.script[min(end - self.prompt_len, len(self.script) - 1)]
        logits[:, -1, nxt] = 0.0
        h = torch.full((n, input_ids.shape[1], self.hidden), float(end) / 100)
        return SimpleNamespace(logits=logits, hidden_states=(h, h, h), past_key_values=end)


@pytest.fixture(scope="module")
def tok() -> Any:
    return tiny_tokenizer(600)


def _ids(tok: Any, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def _settings(tok: Any, script: list[int], **kw: Any) -> EpisodeSettings:
    prompt_len = len(_ids(tok, PAPER_PROMPT))
    base = dict(prompt=PAPER_PROMPT, n_envs=2, episode_tokens=prompt_len + len(script), budget=5.0, budget_scale=10.0)
    base.update(kw)
    return EpisodeSettings(**base)


def _constant_reward(replies: list[str]) -> list[float]:
    return [0.25 if r else 0.5 for r in replies]


def test_turns_are_detected_and_rewarded(tok: Any) -> None:
    pieces = [" Hi there", "\n\nStudent:", " Thanks!", "\n\nTeacher:", "\n\nStudent:", "\n\nTeacher:", " Go"]
    script = [i for p in pieces for i in _ids(tok, p)]
    prompt_len = len(_ids(tok, PAPER_PROMPT))
    model = ScriptedLM(len(tok), prompt_len, script)
    settings = _settings(tok, script)
    out = run_episodes(model, tok, settings, _constant_reward, torch.Generator().manual_seed(0))
    ep = out.episodes[0]
    assert len(ep.token_ids) == settings.episode_tokens  # the episode length counts the prompt
    assert ep.prompt_tokens == prompt_len
    roles = [t.role for t in ep.turns]
    assert roles == ["teacher", "student", "teacher", "student", "teacher"]
    assert ep.turns[1].reply == "Thanks!" and ep.turns[1].reward == 0.25
    assert ep.turns[3].reply == "" and ep.turns[3].reward == 0.5
    assert ep.turns[2].n_tokens == len(_ids(tok, "\n\nStudent:"))
    assert ep.turns[-1].unfinished is True
    assert ep.reward == pytest.approx(0.75)
    # agent steps = teacher tokens; rewards sit on the last agent step before each reply
    n_teacher = sum(r == "teacher" for r in ep.roles)
    assert out.n_steps == 2 * n_teacher
    assert float(out.rewards.sum()) == pytest.approx(2 * 0.75)
    assert ep.log_ratio == (0.0,) * len(ep.token_ids)  # base policy: nothing spent


def test_reply_cutoff_forces_the_teacher_marker(tok: Any) -> None:
    pieces = ["\n\nStudent:", " blah blah blah blah blah blah blah blah blah blah blah blah"]
    script = [i for p in pieces for i in _ids(tok, p)]
    model = ScriptedLM(len(tok), len(_ids(tok, PAPER_PROMPT)), script)
    settings = _settings(tok, script + script, reply_cutoff=3)
    ep = run_episodes(model, tok, settings, _constant_reward, torch.Generator().manual_seed(0)).episodes[0]
    student = ep.turns[1]
    assert student.role == "student" and student.cut is True
    forced = _ids(tok, "\n\nTeacher:")
    assert student.n_tokens == 3 + len(forced)
    assert ep.roles.count("forced") >= len(forced)
    assert student.text.endswith("Teacher:")
    assert ep.turns[2].role == "teacher"


@pytest.mark.parametrize("accounting", ["sampled", "expected"])
def test_budget_bookkeeping_with_a_trained_like_actor(accounting: str) -> None:
    """B_{t+1} = max(0, B_t - [ln x(a_t) - ln beta(a_t)]); E[log-ratio] = KL(x||beta) <= k_t <= B_t + 1e-6."""
    from aitheory.llm.config import get_config
    from aitheory.llm.models import load_base

    cfg = get_config("smoke")
    model, tok = load_base(cfg)
    actor = Actor(n_features(model), len(tok), head="topk")
    with torch.no_grad():
        g = torch.Generator().manual_seed(3)
        actor.linear.weight.copy_(torch.randn(actor.linear.weight.shape, generator=g) * 0.5)
        actor.linear.bias[0] = 3.0
    settings = EpisodeSettings(
        prompt=cfg.prompt,
        n_envs=3,
        episode_tokens=cfg.episode_tokens,
        budget=2.0,
        budget_scale=2.0,
        topk=32,
        accounting=accounting,  # type: ignore[arg-type]
    )
    out = run_episodes(model, tok, settings, _constant_reward, torch.Generator().manual_seed(4), actor, Critic(98))
    spent_any = False
    for ep in out.episodes:
        budget = 2.0
        teacher = [i for i, r in enumerate(ep.roles) if r == "teacher"]
        for j, i in enumerate(teacher):
            assert ep.budget_before[j] == pytest.approx(budget, abs=1e-6)
            assert ep.kl[i] <= budget + 1e-6 + 1e-4
            charge = ep.log_ratio[i] if accounting == "sampled" else ep.kl[i]
            budget = max(0.0, budget - charge)
        assert ep.budget_left == pytest.approx(budget, abs=1e-6)
        # what the clamp forgave closes the books: charges = B_0 - B_T + forgiven
        charges = sum(ep.log_ratio[i] if accounting == "sampled" else ep.kl[i] for i in teacher)
        assert charges == pytest.approx(2.0 - ep.budget_left + ep.forgiven, abs=1e-5)
        if accounting == "expected":  # a hard cap on the summed per-step KL
            assert sum(ep.kl[i] for i in teacher) <= 2.0 + 1e-6 * len(teacher) + 1e-4
        assert all(not math.isnan(v) for v in ep.log_ratio)
        spent_any |= ep.kl_spent > 0.1
    assert spent_any


def test_prompt_longer_than_episode_is_rejected(tok: Any) -> None:
    model = ScriptedLM(len(tok), 0, [0])
    settings = EpisodeSettings(prompt=PAPER_PROMPT, n_envs=1, episode_tokens=10, budget=1.0, budget_scale=1.0)
    with pytest.raises(ValueError, match="episode_tokens"):
        run_episodes(model, tok, settings, _constant_reward, torch.Generator())
