"""Fixtures shared by the LLM tests (``tests/test_llm_*.py``).

torch and :mod:`aitheory.llm` are imported inside the fixtures, so that collecting the other tests needs neither;
a test module that uses one has already skipped itself (``pytest.importorskip``) where its extras are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def restore_torch_threads() -> Iterator[None]:
    """torch's CPU thread count, put back after the module (a ``smoke`` run sets it to ``config.threads`` = 1)."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of one finished training of the ``smoke`` configuration (the tiny GPT-2 built from a config),
    shared by the modules that read it: copy it before changing it. torch's thread count is put back after."""
    import torch

    from aitheory.llm.config import get_config
    from aitheory.llm.ppo import train

    before = torch.get_num_threads()
    try:
        return train(get_config("smoke"), out=tmp_path_factory.mktemp("smoke") / "run")
    finally:
        torch.set_num_threads(before)
