"""``fast_init``: the same objects as the dataclass's own ``__init__``, still frozen."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from dataclasses import FrozenInstanceError, InitVar, dataclass, field
from decimal import Decimal
from typing import Any

import pytest

import bithumb_llm_trader
from bithumb_llm_trader import records
from bithumb_llm_trader.domain import Candle, Level
from bithumb_llm_trader.fast_init import fast_init


def shapes() -> tuple[type[Any], type[Any]]:
    """One class twice: with the dataclass's own ``__init__`` and with ``fast_init``."""

    def define() -> type[Any]:
        @dataclass(frozen=True, slots=True)
        class Shape:
            name: str
            size: Decimal
            tags: list[str] = field(default_factory=list)
            note: str | None = None
            scale: int = field(default=1, kw_only=True)
            extra: dict[str, int] = field(default_factory=dict, kw_only=True)

        return Shape

    return define(), fast_init(define())


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("a", Decimal("1.50")), {}),
    (("a", Decimal(2), ["x"]), {}),
    (("a", Decimal(2), ["x"], "why"), {"scale": 3}),
    ((), {"name": "b", "size": Decimal("-0"), "extra": {"k": 1}}),
    (("c",), {"size": Decimal(1), "note": None, "tags": []}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_it_builds_what_the_dataclass_init_builds(args: tuple[Any, ...],
                                                  kwargs: dict[str, Any]) -> None:
    stock, fast = shapes()
    built, expected = fast(*args, **kwargs), stock(*args, **kwargs)
    assert dataclasses.astuple(built) == dataclasses.astuple(expected)
    assert repr(built).split("(", 1)[1] == repr(expected).split("(", 1)[1]


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {"name": "a"}),  # a field without a default missing
    (("a", Decimal(1), [], None, 3), {}),  # a keyword-only field given by position
    (("a", Decimal(1)), {"colour": "red"}),  # no such field
    (("a", Decimal(1)), {"name": "b"}),  # given twice
])
def test_it_refuses_the_calls_the_dataclass_init_refuses(args: tuple[Any, ...],
                                                         kwargs: dict[str, Any]) -> None:
    stock, fast = shapes()
    with pytest.raises(TypeError):
        stock(*args, **kwargs)
    with pytest.raises(TypeError):
        fast(*args, **kwargs)


def test_the_object_stays_frozen_and_each_gets_its_own_default() -> None:
    _, fast = shapes()
    first, second = fast("a", Decimal(1)), fast("b", Decimal(2))
    with pytest.raises(FrozenInstanceError):
        first.name = "changed"
    assert first.tags is not second.tags and first.extra is not second.extra
    level = Level(Decimal(1), Decimal(2))
    with pytest.raises(FrozenInstanceError):
        level.price = Decimal(3)  # type: ignore[misc]
    assert level == Level(price=Decimal(1), size=Decimal(2)) and hash(level) == hash(
        Level(Decimal(1), Decimal(2)))


def test_classes_it_cannot_copy_are_refused() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        seed: InitVar[int] = 0

    @dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = field(init=False, default=0)

    for cls in (Mutable, NoSlots, Checked, WithInitVar, Derived, int):
        with pytest.raises(TypeError):
            fast_init(cls)


OPTIONAL_EXTRAS = frozenset({"optuna", "fastapi", "uvicorn", "starlette", "apprise",
                             "playwright", "matplotlib"})
"""Libraries of the optional extras: a module needing one may be absent from a venv."""


def fast_classes() -> list[type[Any]]:
    """Every class of the package that uses ``fast_init``."""
    found = []
    for module in pkgutil.walk_packages(bithumb_llm_trader.__path__, "bithumb_llm_trader."):
        if module.name.endswith("__main__"):  # running it would start the command line
            continue
        try:
            loaded = importlib.import_module(module.name)
        except ModuleNotFoundError as exc:
            if exc.name in OPTIONAL_EXTRAS:  # e.g. optimize/ without the optimize extra
                continue
            raise
        for value in vars(loaded).values():
            init = getattr(value, "__init__", None)
            if (isinstance(value, type) and value.__module__ == module.name
                    and getattr(init, "__globals__", {}).get("_NO_VALUE") is not None):
                found.append(value)
    return found


def test_every_fast_class_takes_its_fields_as_the_dataclass_would() -> None:
    classes = fast_classes()
    assert Candle in classes and records.RunRecord in classes  # the search finds them
    for cls in classes:
        parameters = list(inspect.signature(cls).parameters.values())
        fields = dataclasses.fields(cls)
        assert [p.name for p in parameters] == [f.name for f in fields], cls
        for parameter, one in zip(parameters, fields, strict=True):
            kind = (inspect.Parameter.KEYWORD_ONLY if one.kw_only
                    else inspect.Parameter.POSITIONAL_OR_KEYWORD)
            assert parameter.kind is kind, (cls, one.name)
            if one.default is not dataclasses.MISSING:
                assert parameter.default is one.default, (cls, one.name)
            has_default = (one.default is not dataclasses.MISSING
                           or one.default_factory is not dataclasses.MISSING)
            assert (parameter.default is not inspect.Parameter.empty) == has_default
