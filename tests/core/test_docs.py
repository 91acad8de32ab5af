"""The README stays true: every config field is documented, the quick start exists."""

from pathlib import Path

from pydantic import BaseModel

from bithumb_llm_trader.config import StrategyConfig

ROOT = Path(__file__).resolve().parents[2]


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += field_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


def test_every_config_field_is_in_the_readme_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p for p in field_paths(StrategyConfig) if f"`{p}`" not in readme]
    assert not missing, f"document these fields in README.md: {missing}"


def test_quick_start_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bithumb-trader run examples/config.sample.json" in readme
    assert ".venv/bin/python -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci
