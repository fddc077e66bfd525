"""Model prices (USD per million tokens) from a user-editable YAML file: `PRICES_FILE`, else the shipped
`config/prices.yaml`. A model matches its exact name, then the longest entry its name starts with
(providers answer with dated names, `gpt-4o-mini-2024-07-18`), else `default`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from config.settings import Settings

SHIPPED_PRICES_FILE = Path(__file__).with_name("prices.yaml")
OFFLINE_MODEL = "offline"  # what the offline provider is priced as, whatever LLM_MODEL says


class PricesError(ValueError):
    """The prices file cannot be used (missing, not YAML, a price that is not a number >= 0)."""


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_1m: float = Field(ge=0, le=100_000, description="USD per million prompt tokens.")
    output_per_1m: float = Field(ge=0, le=100_000, description="USD per million completion tokens.")


class PriceList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Price = Price(input_per_1m=0, output_per_1m=0)
    models: dict[str, Price] = Field(default_factory=dict)

    def for_model(self, model: str) -> Price:
        if model in self.models:
            return self.models[model]
        prefixes = [name for name in self.models if model.startswith(name)]
        return self.models[max(prefixes, key=len)] if prefixes else self.default

    def priced(self, model: str) -> bool:
        return model in self.models or any(model.startswith(name) for name in self.models)


def prices_path(settings: Settings) -> Path:
    return settings.prices_file or SHIPPED_PRICES_FILE


def load_prices(settings: Settings) -> PriceList:
    path = prices_path(settings)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise PricesError(f"PRICES_FILE ({path}): cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PricesError(f"PRICES_FILE ({path}): not YAML: {exc}") from None
    try:
        return PriceList.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
        raise PricesError(f"PRICES_FILE ({path}): {where}: {err.get('msg', 'invalid')}") from None
