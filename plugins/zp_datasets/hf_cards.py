"""Task cards of the ``hf_datasets`` provider: what a card may say, and where its data is.

A card names a `datasets` dataset (a ``save_to_disk`` folder, data files, or a hub id),
maps placeholders to columns and says where the label is (see docs/tasks.md)::

    name: rte
    type: NLI
    dataset: {path: "{cache}/hf/super_glue/rte"}     # or {files: {train: a.parquet}}, {hub: super_glue, config: rte}
    splits: {train: train, test: validation}         # our split -> the dataset's
    inputs: {X1: premise, X2: hypothesis}
    target: label
    labels: [entailment, not_entailment]             # default: the ClassLabel names of the target
    verbalizers: {entailment: yes, not_entailment: no}
    templates: {file: ../promptsource/super_glue/rte/templates.yml, names: [GPT-3 style]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from zp_evolve.errors import DataError
from zp_evolve.textfiles import read_utf8

from zp_datasets.files import INPUT_PLACEHOLDERS, CardFields
from zp_datasets.promptsource import Binding

#: Data file types ``dataset: {files: ...}`` reads, by suffix, and the `datasets` builder of each.
BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}


class DatasetRef(BaseModel):
    """Where a card's rows are: exactly one of ``path``, ``files`` and ``hub``."""

    model_config = ConfigDict(extra="forbid")

    path: Optional[str] = None
    files: Optional[dict[str, str]] = None
    hub: Optional[str] = None
    config: Optional[str] = None
    revision: Optional[str] = None

    @model_validator(mode="after")
    def _one_source(self) -> "DatasetRef":
        given = [k for k in ("path", "files", "hub") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of path (a save_to_disk folder), files ({split: file}) or hub (an id)")
        if (self.config or self.revision) and not self.hub:
            raise ValueError("config and revision go with hub")
        for file in (self.files or {}).values():
            if Path(file).suffix.lower() not in BUILDERS:
                raise ValueError(f"file {file!r}: use {', '.join(BUILDERS)} files")
        return self

    def describe(self) -> str:
        if self.hub:
            return f"hub dataset {self.hub!r}" + (f" (config {self.config!r})" if self.config else "")
        return f"data folder {self.path}" if self.path else f"data files {', '.join((self.files or {}).values())}"


class TemplateRef(BaseModel):
    """promptsource templates to take as handcrafted prompts: a file, and which of its templates."""

    model_config = ConfigDict(extra="forbid")

    file: str
    names: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)


class HfCard(CardFields):
    """What an ``hf_datasets`` task card may say (unknown keys are errors)."""

    dataset: DatasetRef
    inputs: dict[str, Union[str, list[str]]] = Field(min_length=1)
    labels: Optional[Union[list[str], dict[str, str]]] = None
    verbalizers: Optional[dict[str, str]] = None
    options: Optional[Union[str, list[str]]] = None
    index_base: int = Field(default=0, ge=0)
    where: dict[str, Union[str, int, bool]] = Field(default_factory=dict)
    templates: Optional[TemplateRef] = None

    @field_validator("inputs")
    @classmethod
    def _placeholders(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        if set(inputs) not in INPUT_PLACEHOLDERS:
            raise ValueError("inputs must map X, or X1 and X2 (and X3), to column names (a list of columns is joined)")
        if any(isinstance(v, list) and not v for v in inputs.values()):
            raise ValueError("an input's list of columns is empty")
        return inputs

    @model_validator(mode="after")
    def _consistent(self) -> "HfCard":
        if isinstance(self.options, list) and len(self.options) < 2:
            raise ValueError("options: give two or more columns, or one column holding a list")
        if self.options and self.labels:
            raise ValueError("give options (multiple choice) or labels, not both")
        if self.verbalizers and isinstance(self.labels, dict):
            raise ValueError("labels is a label -> word mapping already; drop verbalizers")
        return self

    # -- derived -----------------------------------------------------------------
    def columns_of(self, placeholder: str) -> tuple[str, ...]:
        value = self.inputs[placeholder]
        return tuple(value) if isinstance(value, list) else (value,)

    def option_columns(self) -> tuple[str, ...]:
        if not self.options:
            return ()
        return tuple(self.options) if isinstance(self.options, list) else (self.options,)

    def split_map(self) -> dict[str, str]:
        """Our split -> the dataset's split (``{train: train, test: test}`` unless the card says)."""
        return dict(self.splits) or {"train": "train", "test": "test"}

    def columns(self) -> list[str]:
        """Every column the card reads."""
        inputs = [c for p in sorted(self.inputs) for c in self.columns_of(p)]
        return list(dict.fromkeys([*inputs, self.target, *self.option_columns(), *self.where]))

    def binding(self, labels: tuple[str, ...], options_list: bool) -> Binding:
        return Binding(
            inputs={p: self.columns_of(p) for p in sorted(self.inputs)}, target=self.target, labels=labels,
            options=self.option_columns(), options_list=options_list, index_base=self.index_base,
            constants=dict(self.where),
        )


def expand(path: str, base: Path) -> Path:
    """A card's path: ``{cache}`` is the zp_evolve cache folder, ``~`` the home folder, others relative to ``base``."""
    from zp_evolve.downloads import cache_root

    if "{cache}" in path:
        path = path.replace("{cache}", str(cache_root()))
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else (base / resolved).resolve()


def parse_card(data: Any, where: str) -> HfCard:
    """A card from its YAML mapping; ``where`` names it in errors (its file, or the provider's tasks entry)."""
    try:
        return HfCard.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<card>'}: {e['msg']}" for e in error.errors())
        raise DataError(f"task card {where}: {problems}") from None


def read_card(path: Path) -> HfCard:
    try:
        data = yaml.safe_load(read_utf8(path))
    except DataError as error:
        raise DataError(f"task card {error}") from None
    except yaml.YAMLError as error:
        raise DataError(f"task card {path}: cannot read it: {error}") from None
    return parse_card(data, str(path))


def card_files(entry: str) -> list[Path]:
    """The card files of a ``cards:`` entry: a file, or the ``*.yaml``/``*.yml`` files of a folder."""
    path = Path(entry).expanduser()
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise DataError(f"task card {entry!r} not found (a .yaml file, or a folder of them)")
    return files
