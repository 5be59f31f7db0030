"""Frozen-dataclass configurations and the command-line options generated from them.

A configuration is a frozen dataclass whose every field has a docstring (a string literal right after the
field, as in this package's code). :func:`add_arguments` turns the fields into ``--field-name`` options whose
help is that docstring, and :func:`from_namespace` builds the configuration back, so the command line and the
Python API cannot drift apart and nothing is mutated after parsing.

**One override syntax.** Every configuration on the command line (the checks, the experiments, the LLM runs)
also takes ``--set FIELD=VALUE`` (repeatable; ``FIELD`` as the Python field name, ``max_bits`` or ``max-bits``).
``--set max_bits=24`` is the same as ``--max-bits 24``: both go through :func:`parse_value`, the one parser of
field values, and where both name a field the later one on the command line wins. :func:`apply_overrides` applies
``FIELD=VALUE`` strings (or a mapping) to a configuration in Python (``aitheory.llm.config.with_overrides``).

Supported field types: ``int``, ``float`` (NaN refused), ``str``, ``bool`` (``--name`` / ``--no-name``; in
``--set``: ``true``/``false``/``1``/``0``/``yes``/``no``), ``tuple[int, ...]``, ``tuple[float, ...]`` and
``tuple[str, ...]`` (comma-separated, ``4,8,16``, or a JSON list, ``[4, 8, 16]``: the one form for values that
hold commas, such as BF-8 programs, ``--set 'joint_pattern_events=["+[>,.<]]", "+[,.+]]"]'``; a value starting
with ``[`` is read as JSON), ``Literal[...]`` (choices), and ``X | None`` of those (``none``, ``null``
or nothing in ``--set``). Values are validated where they are parsed: the type here, ranges and sizes by the
dataclass's ``__post_init__`` (a ``ValueError`` naming the field, which the command line reports as a usage
error, exit 2).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import math
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, NoReturn, Protocol, Self, TypeVar

__all__ = [
    "ArgumentParser",
    "add_arguments",
    "apply_overrides",
    "field_docs",
    "from_namespace",
    "parse_experiment",
    "parse_override",
    "parse_value",
]

C = TypeVar("C")


class _HasQuick(Protocol):
    @classmethod
    def quick(cls) -> Self: ...


Q = TypeVar("Q", bound=_HasQuick)


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


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2: ``prog: error: argument --eps: ... (see 'prog --help')``.

    The ``aitheory`` command and the experiment scripts use it, so a bad option is one line, never a traceback."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {line} (see '{self.prog} --help')\n")


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


def _json_item(item: type, value: Any) -> Any:
    """One element of a JSON list as ``item`` (``int``: a JSON integer; ``float``: any finite JSON number;
    ``str``: a JSON string); ``ValueError`` saying what it is instead."""
    if item is str and isinstance(value, str):
        return value
    if item is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if item is float and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            if math.isfinite(number := float(value)):
                return number
        except OverflowError:  # an integer beyond the floats
            pass
    raise ValueError(f"expected a JSON list of {item.__name__}s, got the element {json.dumps(value)[:40]}")


def _tuple_parser(item: type) -> Any:
    """Parser of a ``tuple[item, ...]`` value: comma-separated (``4,8,16``), or, for values that hold commas (the
    read token ``,`` of BF-8 programs), a JSON list (``["+[>,.<]]", "+[,.+]]"]``, ``[4, 8, 16]``). A value whose
    first non-blank character is ``[`` is read as JSON."""
    convert = _number if item is float else item

    def parse(text: str) -> tuple[Any, ...]:
        if text.lstrip().startswith("["):
            try:
                values = json.loads(text, parse_constant=_refuse_constant)
            except ValueError as exc:  # json.JSONDecodeError, or NaN/Infinity
                raise argparse.ArgumentTypeError(f"expected a JSON list of {item.__name__}s, got {text!r} "
                                                 f"({exc})") from None
            if not isinstance(values, list):
                raise argparse.ArgumentTypeError(f"expected a JSON list of {item.__name__}s, got {text!r}")
            try:
                return tuple(_json_item(item, v) for v in values)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        try:
            return tuple(convert(x.strip() if item is not str else x) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {item.__name__}s or a JSON list, got {text!r}") from None
    return parse


def _tuple_text(values: tuple[Any, ...]) -> str:
    """``values`` as the command line reads them back: comma-separated, or a JSON list where an element holds a
    comma (or the first starts with ``[``)."""
    text = ",".join(map(str, values))
    if any("," in str(v) for v in values) or text.lstrip().startswith("["):
        return json.dumps(list(values))
    return text


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a value")


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _parse_as(name: str, tp: Any, text: str) -> Any:
    """``text`` as a value of type ``tp`` (one of the supported field types); ``ValueError`` naming ``name``."""
    inner, optional = _strip_optional(tp)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if typing.get_origin(inner) is typing.Literal:
        choices = typing.get_args(inner)
        for choice in choices:
            if text == str(choice):
                return choice
        raise ValueError(f"field {name}: expected one of {', '.join(map(str, choices))}, got {text!r}")
    try:
        if inner is bool:
            if text.strip().lower() not in (*_TRUE, *_FALSE):
                raise ValueError
            return text.strip().lower() in _TRUE
        if inner is int:
            return int(text)
        if inner is float:
            return _number(text)
        if inner is str:
            return text
        if typing.get_origin(inner) is tuple:
            return _tuple_parser(typing.get_args(inner)[0])(text)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        why = str(exc) if isinstance(exc, argparse.ArgumentTypeError) else f"expected {_type_name(inner)}, got {text!r}"
        raise ValueError(f"field {name}: {why}") from None
    raise TypeError(f"field {name}: unsupported field type {tp!r} for the command line")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


@cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _field_name(cls: type, name: str) -> str:
    """``name`` (``max_bits`` or ``max-bits``) as a field of ``cls``; ``ValueError`` listing the fields if none."""
    types_ = _field_types(cls)
    field = name.strip().replace("-", "_")
    if field not in types_:
        raise ValueError(f"unknown configuration field {name.strip()!r} of {cls.__qualname__}; fields: "
                         f"{', '.join(types_)}")
    return field


def parse_value(cls: type, name: str, text: str) -> Any:
    """The value of field ``name`` of dataclass ``cls`` written as ``text`` (the one parser of field values on the
    command line); ``ValueError`` naming the field (unknown, or a value not of its type)."""
    field = _field_name(cls, name)
    return _parse_as(field, _field_types(cls)[field], text)


def parse_override(cls: type, text: str) -> tuple[str, Any]:
    """``"max_bits=24"`` -> ``("max_bits", 24)`` for dataclass ``cls`` (:func:`parse_value`)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected FIELD=VALUE, got {text!r}")
    return _field_name(cls, key), parse_value(cls, key, value)


def apply_overrides(config: C, overrides: Iterable[str] | Mapping[str, Any]) -> C:
    """A copy of ``config`` with fields replaced: ``["max_bits=24", "plot=false"]`` (parsed by
    :func:`parse_value`) or a mapping (string values parsed, others used as they are); the dataclass's
    ``__post_init__`` validates the result."""
    cls = type(config)
    if isinstance(overrides, Mapping):
        values = {_field_name(cls, key): parse_value(cls, key, value) if isinstance(value, str) else value
                  for key, value in overrides.items()}
    else:
        values = dict(parse_override(cls, o) for o in overrides)
    return dataclasses.replace(config, **values)  # type: ignore[type-var]


class _SetField(argparse.Action):
    """``--set FIELD=VALUE``: parse the value as the field's option would and store it under the field's name."""

    def __init__(self, option_strings: list[str], dest: str, config_class: type, exclude: tuple[str, ...] = (),
                 **kwargs: Any) -> None:
        self.config_class, self.exclude = config_class, exclude
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        try:
            field, value = parse_override(self.config_class, str(values))
            if field in self.exclude:
                raise ValueError(f"field {field} cannot be set here")
        except ValueError as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        setattr(namespace, field, value)


def add_arguments(parser: argparse.ArgumentParser, cls: type, exclude: tuple[str, ...] = (),
                  explicit_only: bool = False) -> None:
    """Add one option per field of dataclass ``cls`` (defaults shown; help from the field docstrings).

    ``explicit_only``: only the options given on the command line reach the namespace (argparse's ``SUPPRESS``
    default), so :func:`from_namespace` with a ``base`` (say ``Config.quick()``) keeps the base's values for the
    others and the explicit ones always win. ``--set FIELD=VALUE`` is added too (module docstring).
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
            kwargs["type"] = _tuple_parser(item)
            kwargs["help"] = (f"{help_text} (comma-separated, or a JSON list for values with commas; default: "
                              f"{_tuple_text(default or ())})")
        elif tp in (int, float, str):
            kwargs["type"] = _number if tp is float else tp
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported field type {tp!r} for the command line")
        if optional:
            kwargs["help"] += " (optional)"
        parser.add_argument(option, **kwargs)
    first = next((f.name for f in dataclasses.fields(cls) if f.init and f.name not in exclude), "field")
    parser.add_argument("--set", action=_SetField, config_class=cls, exclude=exclude, dest="set_field",
                        default=argparse.SUPPRESS, metavar="FIELD=VALUE",
                        help=f"set any field as its option does: --set {first}=V is {_option(first)} V (repeatable; "
                             "where both name a field, the later wins)")
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


def parse_experiment(cls: type[Q], run_name: str, description: str | None, argv: Sequence[str] | None = None,
                     exclude: tuple[str, ...] = (),
                     formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter) -> tuple[Q, str | None]:
    """An experiment script's command line: one option per field of ``cls`` (not ``exclude``) and ``--set``,
    ``--quick`` (start from ``cls.quick()``; the options given win over it) and ``--out`` (the run folder, default
    ``runs/<run_name>-<time>``). A bad value is one line and exit 2 (:class:`ArgumentParser`).

    Returns the configuration and ``--out`` (``None`` when not given)."""
    parser = ArgumentParser(description=description, formatter_class=formatter_class)
    add_arguments(parser, cls, exclude=exclude, explicit_only=True)  # explicit options win over --quick
    parser.add_argument("--quick", action="store_true", help="small configuration (seconds; the tests run it)")
    parser.add_argument("--out", default=None, help=f"run folder (default runs/{run_name}-<time>)")
    args = parser.parse_args(argv)
    try:  # a bad value (--field or --set field=): one line, exit 2
        config = from_namespace(cls, args, base=cls.quick() if args.quick else cls())
    except ValueError as exc:
        parser.error(str(exc))
    return config, args.out
