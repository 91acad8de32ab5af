"""Reading a portfolio: a directory of strategy files, or a portfolio file.

The two forms treat a bad strategy file differently, on purpose:

* In a DIRECTORY every file is an independent strategy with an equal weight; a file
  that does not load is an isolated failure, recorded in every cycle's result, and the
  others run. Its weight stays unallocated, so fixing it later changes nobody's slice.
* A PORTFOLIO FILE names its members and their capital weights explicitly; a member
  that does not load would silently change the capital plan, so the whole portfolio is
  refused (``ConfigError``, exit 2) until the file is fixed.

Duplicate strategy names and weights summing to more than 1 are refused in both forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from pydantic import ValidationError

from ..config import StrategyConfig, load_config, read_mapping
from ..config.loading import SUFFIXES
from ..errors import ConfigError
from .config import PortfolioConfig, PortfolioMember

WEIGHT_STEP = Decimal("0.000001")
"""Equal weights of a directory are rounded down to this, so they never sum above 1."""


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A strategy that loaded, with its weight and the file it came from."""

    config: StrategyConfig
    weight: Decimal
    source: Path

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A strategy file of a directory that did not load; reported, never run."""

    source: Path
    error: str
    weight: Decimal = Decimal(0)

    @property
    def name(self) -> str:
        return self.source.stem


@dataclass(frozen=True, slots=True)
class PortfolioPlan:
    """What to run: the portfolio's settings, its members, and the files that failed."""

    config: PortfolioConfig
    members: tuple[MemberSpec, ...]
    failures: tuple[LoadFailure, ...] = ()
    source: Path | None = None
    from_directory: bool = False

    def database_url(self, override: str | None = None) -> str:
        """``--db``, else the portfolio file's, else the one URL every member names."""
        if override:
            return override
        if self.config.database_url:
            return self.config.database_url
        urls = sorted({member.config.database.url for member in self.members})
        if len(urls) > 1:
            raise ConfigError(
                "the strategies name different databases; a portfolio keeps one: set "
                "database_url in the portfolio file or pass --db"
            )
        return urls[0]

    def paper_balances(self) -> dict[str, Decimal]:
        """The dry-run account: the portfolio file's balances, or the members' summed."""
        if self.config.paper_initial_balances is not None:
            return dict(self.config.paper_initial_balances)
        total: dict[str, Decimal] = {}
        for member in self.members:
            for currency, amount in member.config.paper.initial_balances.items():
                total[currency] = total.get(currency, Decimal(0)) + amount
        return total


def load_portfolio(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv: str | Path | None = ".env",
) -> PortfolioPlan:
    """Load a directory of strategy files or a portfolio file.

    Raises:
        ConfigError: the path is missing, the portfolio file or one of its members is
            invalid, names repeat, weights sum above 1, the members disagree on the
            Bithumb account, or no strategy of a directory loads.
    """
    source = Path(path)
    if source.is_dir():
        plan = _load_directory(source, environ, dotenv)
    elif source.is_file():
        plan = _load_portfolio_file(source, environ, dotenv)
    else:
        raise ConfigError(f"{source}: no such file or directory")
    _check_one_account(plan.members)
    return plan


def _load_directory(
    directory: Path, environ: Mapping[str, str] | None, dotenv: str | Path | None
) -> PortfolioPlan:
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
    if not files:
        raise ConfigError(f"{directory}: no strategy files (.json, .yaml, .yml or .toml)")
    weight = (Decimal(1) / len(files)).quantize(WEIGHT_STEP, rounding=ROUND_DOWN)
    members: list[MemberSpec] = []
    failures: list[LoadFailure] = []
    for file in files:
        try:
            strategy = load_config(file, environ=environ, dotenv=dotenv)
        except ConfigError as exc:
            failures.append(LoadFailure(file, str(exc), weight))
            continue
        members.append(MemberSpec(strategy, weight, file))
    if not members:
        details = "; ".join(failure.error for failure in failures)
        raise ConfigError(f"{directory}: no strategy file loads: {details}")
    _check_unique(members)
    config = PortfolioConfig(
        strategies=tuple(PortfolioMember(file=str(m.source), weight=weight) for m in members),
        dry_run=any(member.config.dry_run for member in members),
    )
    _check_portfolio_name(config, members)
    return PortfolioPlan(config, tuple(members), tuple(failures), directory, True)


def _load_portfolio_file(
    file: Path, environ: Mapping[str, str] | None, dotenv: str | Path | None
) -> PortfolioPlan:
    data = read_mapping(file)
    if "strategies" not in data:
        raise ConfigError(
            f"{file}: not a portfolio file (no 'strategies' list); to run one strategy file "
            "use 'bithumb-trader run', or pass a directory of strategy files"
        )
    try:
        config = PortfolioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None
    members = []
    for member in config.strategies:
        member_path = Path(member.file)
        if not member_path.is_absolute():
            member_path = file.parent / member_path
        try:
            strategy = load_config(member_path, environ=environ, dotenv=dotenv)
        except ConfigError as exc:
            raise ConfigError(f"{file}: strategy {member.file}: {exc}") from None
        members.append(MemberSpec(strategy, member.weight, member_path))
    _check_unique(members)
    _check_portfolio_name(config, members)
    return PortfolioPlan(config, tuple(members), (), file, False)


def _check_unique(members: Sequence[MemberSpec]) -> None:
    seen: dict[str, Path] = {}
    for member in members:
        if member.name in seen:
            raise ConfigError(
                f"strategy name {member.name!r} is used by both {seen[member.name]} and "
                f"{member.source}; every strategy of a portfolio needs its own name"
            )
        seen[member.name] = member.source


def _check_portfolio_name(config: PortfolioConfig, members: Sequence[MemberSpec]) -> None:
    if any(member.name == config.name for member in members):
        raise ConfigError(
            f"strategy name {config.name!r} is the portfolio's own name (it records the "
            "netted orders); rename the strategy or set the portfolio's name"
        )


def _check_one_account(members: Sequence[MemberSpec]) -> None:
    """One portfolio trades one exchange account through one client."""
    first = members[0]
    for member in members[1:]:
        if member.config.api != first.config.api:
            raise ConfigError(
                f"strategies {first.name!r} and {member.name!r} name different Bithumb "
                "accounts (their api sections differ); a portfolio trades one account"
            )


def _describe(exc: ValidationError, source: Path) -> str:
    lines = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "(top)"
        lines.append(f"{source}: {where}: {error['msg']}")
    return "\n".join(lines)
