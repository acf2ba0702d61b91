"""Typed hyper-parameter declarations: each model declares its parameters once, on the class.

A parameter is a class attribute with a type annotation and :func:`param`::

    class EASE(ItemItemRecommender):
        l2: float = param(150.0, "L2 penalty of the item-item weights", gt=0)

Every :class:`~artistrec.models.base.Recommender` subclass is turned into a dataclass (no ``eq``,
no generated ``repr``), so from that one declaration come

- ``__init__`` with exactly those keyword parameters and defaults (it only stores them, as
  scikit-learn requires; ``inspect.signature(EASE)`` lists them),
- ``get_params`` / ``set_params`` / ``repr`` and the ``params`` of the saved artifact,
- validation at ``fit`` (:func:`validate`): a :class:`ParameterError` naming the model, the
  parameter, what it accepts and the value it got,
- the listing :func:`param_table` (name, type, default, accepted values, doc) for the CLI/docs.

Hand-written on :mod:`dataclasses` rather than pydantic: models keep their scikit-learn shape
(parameters as instance attributes, set in ``__init__``, validated at ``fit``), numpy scalars
are accepted as numbers, and nothing is silently coerced (``"5"`` is not an integer).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


class ParameterError(ValueError):
    """A hyper-parameter has an unknown name or a value outside what the model accepts."""


@dataclass(frozen=True)
class Param:
    """What one hyper-parameter accepts, and what it means.

    ``kind`` (``int``, ``float``, ``str`` or ``bool``) comes from the attribute's annotation;
    ``gt``/``ge``/``lt``/``le`` bound numbers (exclusive/inclusive); ``choices`` lists the
    accepted strings.
    """

    default: Any
    doc: str
    kind: type = object
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    choices: tuple[Any, ...] | None = None

    def accepts(self) -> str:
        """The accepted values in words, e.g. ``"an integer >= 1"`` or ``"one of 'a', 'b'"``."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {int: "an integer", float: "a number", bool: "a boolean", str: "a string"}
        text = noun.get(self.kind, "a value")
        low = (f"> {_num(self.gt)}" if self.gt is not None else None) or (
            f">= {_num(self.ge)}" if self.ge is not None else None
        )
        high = (f"< {_num(self.lt)}" if self.lt is not None else None) or (
            f"<= {_num(self.le)}" if self.le is not None else None
        )
        if low and high:
            lb = "(" if self.gt is not None else "["
            hb = ")" if self.lt is not None else "]"
            lo = self.gt if self.gt is not None else self.ge
            hi = self.lt if self.lt is not None else self.le
            return f"{text} in {lb}{_num(lo)}, {_num(hi)}{hb}"
        return " ".join(p for p in (text, low or high) if p)

    def check(self, value: Any) -> bool:
        """True when ``value`` is of the right kind and within the bounds/choices."""
        if self.kind is bool:
            return isinstance(value, (bool, np.bool_))
        if isinstance(value, (bool, np.bool_)):
            return False  # True is an int to Python, never a count or a weight here
        if self.kind is int:
            ok = isinstance(value, (int, np.integer))
        elif self.kind is float:
            ok = isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value)
        elif self.kind is str:
            ok = isinstance(value, str)
        else:
            ok = True
        if not ok:
            return False
        if self.choices is not None:
            return value in self.choices
        return not (
            (self.gt is not None and not value > self.gt)
            or (self.ge is not None and not value >= self.ge)
            or (self.lt is not None and not value < self.lt)
            or (self.le is not None and not value <= self.le)
        )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def param(
    default: Any,
    doc: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """Declare a hyper-parameter (use as the default value of an annotated class attribute)."""
    spec = Param(default, doc, gt=gt, ge=ge, lt=lt, le=le, choices=choices)
    return dataclasses.field(default=default, metadata={"param": spec})


def specs(cls: type) -> dict[str, Param]:
    """name -> :class:`Param` of every declared parameter of a model class, in signature order."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Param] = {}
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("param")
        if spec is None:
            raise TypeError(f"{cls.__name__}.{f.name} must be declared with param(...)")
        kind = hints.get(f.name, object)
        out[f.name] = dataclasses.replace(spec, kind=kind if isinstance(kind, type) else object)
    return out


def check_names(model: str, cls: type, names: Mapping[str, Any] | list[str]) -> None:
    """Raise :class:`ParameterError` for any name that is not a parameter of ``cls``."""
    valid = list(specs(cls))
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ParameterError(
            f"{model} has no parameter {', '.join(repr(n) for n in unknown)}; "
            f"valid parameters: {', '.join(valid) or '(none)'}"
        )


def validate(model: str, cls: type, values: Mapping[str, Any]) -> None:
    """Raise :class:`ParameterError` for the first value ``cls`` does not accept."""
    check_names(model, cls, values)
    for name, spec in specs(cls).items():
        value = values.get(name, spec.default)
        if not spec.check(value):
            raise ParameterError(
                f"{model}: parameter {name!r} must be {spec.accepts()}, got {value!r}"
            )


def param_table(cls: type) -> pd.DataFrame:
    """One row per parameter: ``name``, ``type``, ``default``, ``accepts``, ``doc``."""
    rows = [
        {
            "name": name,
            "type": spec.kind.__name__,
            "default": spec.default,
            "accepts": spec.accepts(),
            "doc": spec.doc,
        }
        for name, spec in specs(cls).items()
    ]
    return pd.DataFrame(rows, columns=["name", "type", "default", "accepts", "doc"])


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values with numpy scalars turned into Python ones (for JSON metadata)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
