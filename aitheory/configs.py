"""Frozen-dataclass configurations and the command-line options generated from them.

A configuration is a frozen dataclass whose every field has a docstring (a string literal right after the
field, as in this package's code). :func:`add_arguments` turns the fields into ``--field-name`` options whose
help is that docstring, and :func:`from_namespace` builds the configuration back, so the command line and the
Python API cannot drift apart and nothing is mutated after parsing.

Supported field types: ``int``, ``float`` (NaN refused), ``str``, ``bool`` (``--name`` / ``--no-name``),
``tuple[int, ...]`` and ``tuple[float, ...]`` (comma-separated), ``Literal[...]`` (choices), and ``X | None`` of
those. Values are validated where they are parsed: the type here, ranges and sizes by the dataclass's
``__post_init__`` (a ``ValueError`` naming the field, which the command line reports as a usage error, exit 2).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
import types
import typing
from functools import cache
from typing import Any, TypeVar

__all__ = ["add_arguments", "field_docs", "from_namespace"]

C = TypeVar("C")


@cache
def field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` read from the class source (the string literal after each annotated field)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, [*body[1:], None], strict=True):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _number(text: str) -> float:
    """argparse type for float fields: a number, not NaN (NaN compares false, so it would pass range checks)."""
    value = float(text)
    if value != value:
        raise ValueError(f"NaN is not a value: {text!r}")
    return value


_number.__name__ = "float"  # argparse names the type in its messages ("invalid float value")


def _tuple_parser(item: type, option: str) -> Any:
    convert = _number if item is float else item

    def parse(text: str) -> tuple[Any, ...]:
        try:
            return tuple(convert(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {item.__name__}s, got {text!r}") from None
    return parse


def add_arguments(parser: argparse.ArgumentParser, cls: type, exclude: tuple[str, ...] = (),
                  explicit_only: bool = False) -> None:
    """Add one option per field of dataclass ``cls`` (defaults shown; help from the field docstrings).

    ``explicit_only``: only the options given on the command line reach the namespace (argparse's ``SUPPRESS``
    default), so :func:`from_namespace` with a ``base`` (say ``Config.quick()``) keeps the base's values for the
    others and the explicit ones always win.
    """
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.init:
            continue
        tp, optional = _strip_optional(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = docs.get(f.name, "")
        option = _option(f.name)
        if tp is bool:
            parser.add_argument(option, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=f"{help_text} (default: {default})" if explicit_only else help_text)
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "default": default, "help": f"{help_text} (default: {default})"}
        if typing.get_origin(tp) is typing.Literal:
            kwargs["choices"] = list(typing.get_args(tp))
        elif typing.get_origin(tp) is tuple:
            item = typing.get_args(tp)[0]
            kwargs["type"] = _tuple_parser(item, option)
            kwargs["help"] = f"{help_text} (comma-separated; default: {','.join(map(str, default or ()))})"
        elif tp in (int, float, str):
            kwargs["type"] = _number if tp is float else tp
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported field type {tp!r} for the command line")
        if optional:
            kwargs["help"] += " (optional)"
        parser.add_argument(option, **kwargs)
    if explicit_only:
        names = {f.name for f in dataclasses.fields(cls)}
        for action in parser._actions:
            if action.dest in names:
                action.default = argparse.SUPPRESS


def from_namespace(cls: type[C], namespace: argparse.Namespace, base: C | None = None) -> C:
    """Build ``cls`` from parsed options; fields not on the namespace keep ``base``'s (or the default) value."""
    values = dataclasses.asdict(base) if base is not None else {}  # type: ignore[call-overload]
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if hasattr(namespace, f.name):
            values[f.name] = getattr(namespace, f.name)
    return cls(**values)
