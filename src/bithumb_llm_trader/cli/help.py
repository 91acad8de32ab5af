"""How ``--help`` reads, and what a mistyped command says.

Typer labels every parameter with its Python type (``<str>``, ``<bool>``), which tells
an operator nothing the help text does not; here an option shows its metavar (``URL``,
``DURATION``) or, for a flag, nothing, and an argument its name. A command that does not
exist is one line naming the commands that do, instead of a boxed usage error.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from .common import fail


class _Argument(TyperArgument):
    """An argument shown by its name: ``CONFIG``, not ``CONFIG <str>`` or ``{config}``."""

    @property
    def display_name_raw(self) -> str:
        return (self.metavar or self.name or "argument").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw
        return [name if self.required else f"[{name}]"]


class _Option(TyperOption):
    """An option shown with its metavar, or its choices (``table|json|csv``), or its name
    in capitals; a flag or a counter (``-v``) with nothing."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        if self.type_descriptor.is_choice:  # <list[a|b]> -> a|b
            return self.display_type(ctx).strip("<>").removeprefix("list[").rstrip("]")
        return (self.name or "value").upper()


def _plain(params: list[Any]) -> list[Any]:
    """The same parameters, shown as above: parsing is untouched, only the help differs."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option
    return params


class PlainCommand(TyperCommand):
    """A command whose help shows no Python types (see the module docstring)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))


class PlainGroup(TyperGroup):
    """The root: plain help, and one line for an unknown command (exit 2)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # click cuts each summary at the terminal's width ("Replay historical..."); a
        # summary is one sentence, so it is shown whole and wrapped instead.
        rows = [(name, command.get_short_help_str(limit=300))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and not ctx.resilient_parsing \
                and self.get_command(ctx, name) is None:
            fail(unknown_command(name, self.list_commands(ctx)))
        return super().resolve_command(ctx, args)


def unknown_command(name: str, commands: list[str]) -> str:
    """``no such command 'rn' (did you mean 'run'?); the commands are: run, twap, ...``."""
    close = get_close_matches(name, commands, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"no such command {name!r}{guess}; the commands are: {', '.join(commands)}"
            f" (see bithumb-trader --help)")

