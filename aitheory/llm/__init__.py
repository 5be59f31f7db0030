"""The paper's LLM experiment: KL-budgeted PPO on a teacher/student chat (extra ``[llm]``).

Cohen, Hutter, Bengio, Russell, "RL, but don't do anything I wouldn't do", section on the Mixtral experiment.
Submodules (torch and transformers are imported only when a submodule that needs them is imported):

* :mod:`aitheory.llm.mixture` -- the KL fixed mixture ``x = alpha a + (1-alpha) beta`` as an autograd op;
* :mod:`aitheory.llm.actor` -- actor head with budget neuron (full vocabulary or top-K + tail), critic;
* :mod:`aitheory.llm.config` -- the ``smoke``, ``cpu`` and ``paper`` configurations (no torch needed);
* :mod:`aitheory.llm.models` -- loading base models (tiny GPT-2, SmolLM2 from its GGUF, Mixtral in 4-bit);
* :mod:`aitheory.llm.env` -- the batched lock-step chat environment;
* :mod:`aitheory.llm.episodes` -- the typed ``Turn``/``Episode`` records of transcripts (no torch needed);
* :mod:`aitheory.llm.rewards` -- sentiment rewards (VADER, or a transformers pipeline by model name);
* :mod:`aitheory.llm.ppo` -- the PPO trainer, run folders, checkpoints and resume;
* :mod:`aitheory.llm.evaluate` -- empty-response statistics, offline Table 1 measures (no torch needed);
* :mod:`aitheory.llm.figures` -- the paper's Figures 2-4 from saved transcripts (matplotlib);
* :mod:`aitheory.llm.diagnose` -- a base model's credence in silence after the paper's prompt.

Units: KL and budgets in nats.
"""

from __future__ import annotations

__all__: list[str] = []
