"""The BF-8 hypothesis strategies of the dsl tests: shipped in :mod:`aitheory.dsl.strategies`."""

from aitheory.dsl.strategies import exprs, invalid_texts, programs, texts

__all__ = ["exprs", "invalid_texts", "programs", "texts"]
