"""Where an ``hf_datasets`` card's rows are, read cheaply for listing and fully for loading.

Listing reads only metadata: a ``save_to_disk`` folder's ``dataset_dict.json`` and
``dataset_info.json`` (features, split sizes), a parquet file's schema; and, for the
template checks, the first rows of a folder's arrow file or of a parquet file
(``pyarrow``, memory-mapped). ``datasets`` itself is imported only to load a task's
rows (:meth:`DataSource.open`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from zp_evolve.errors import DataError

from zp_datasets.hf_cards import BUILDERS, DatasetRef, expand

SAVE_SCRIPT = "scripts/save_t0_heldout.py"


@dataclass(frozen=True)
class Column:
    """What a column holds, from the dataset's features: ``label`` (with names), ``int``, ``string``, ``list`` or ``other``."""

    kind: str
    names: tuple[str, ...] = ()


def column_of(feature: Any) -> Column:
    """A `datasets` feature (its JSON form) as a :class:`Column`."""
    if isinstance(feature, list):
        return Column("list")
    if not isinstance(feature, dict):
        return Column("other")
    kind = feature.get("_type")
    if kind == "ClassLabel":
        return Column("label", tuple(str(n) for n in feature.get("names") or ()))
    if kind in ("Sequence", "List", "LargeList"):
        return Column("list")
    dtype = str(feature.get("dtype", ""))
    if kind == "Value" and dtype.startswith(("int", "uint")):
        return Column("int")
    if kind == "Value" and dtype in ("string", "large_string"):
        return Column("string")
    return Column("other")


def _arrow_column(kind: Any) -> Column:
    import pyarrow as pa

    if pa.types.is_integer(kind):
        return Column("int")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return Column("string")
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return Column("list")
    return Column("other")


class DataSource:
    """One card's dataset: a ``save_to_disk`` folder, data files, or a hub id."""

    def __init__(self, ref: DatasetRef, base: Path, card: str) -> None:
        self.ref = ref
        self.card = card
        self.folder = expand(ref.path, base) if ref.path else None
        self.files = {split: expand(f, base) for split, f in (ref.files or {}).items()}

    # -- cheap ---------------------------------------------------------------
    def present(self) -> bool:
        """True when the rows are on this machine (a hub dataset: unknown until loaded, so True)."""
        if self.folder is not None:
            return (self.folder / "dataset_dict.json").is_file() or (self.folder / "state.json").is_file()
        return all(f.is_file() for f in self.files.values())

    def single(self) -> bool:
        """True for a folder holding one ``Dataset`` (no splits: the task gets a hold-out)."""
        return self.folder is not None and not (self.folder / "dataset_dict.json").is_file()

    def split_names(self) -> list[str] | None:
        """The dataset's split names when they are known without loading it."""
        if self.folder is not None:
            if self.single():
                return None
            return [str(s) for s in _json(self.folder / "dataset_dict.json").get("splits", [])]
        return list(self.files) if self.files else None

    def columns(self) -> dict[str, Column] | None:
        """Column kinds from the features, or ``None`` when they cannot be read cheaply."""
        if self.folder is not None:
            info = _json(self._split_folder(None) / "dataset_info.json")
            return {name: column_of(f) for name, f in (info.get("features") or {}).items()}
        parquet = [f for f in self.files.values() if f.suffix.lower() == ".parquet"]
        if not parquet:
            return None
        import pyarrow.parquet as pq

        schema = pq.read_schema(parquet[0])
        meta = (schema.metadata or {}).get(b"huggingface")
        features = json.loads(meta).get("info", {}).get("features") if meta else None
        if features:
            return {name: column_of(f) for name, f in features.items()}
        return {field.name: _arrow_column(field.type) for field in schema}

    def size(self, splits: list[str]) -> int:
        """Examples in the dataset's ``splits``, when the metadata says (else 0)."""
        if self.folder is not None:
            info = _json(self._split_folder(None) / "dataset_info.json").get("splits") or {}
            counts = [int((info.get(s) or {}).get("num_examples") or 0) for s in splits]
            if all(counts) and not self.single():
                return sum(counts)
            return sum(self._arrow_rows(split) for split in ([None] if self.single() else splits))
        if self.files and all(f.suffix.lower() == ".parquet" for f in self.files.values()):
            import pyarrow.parquet as pq

            return sum(pq.ParquetFile(self.files[s]).metadata.num_rows for s in splits if s in self.files)
        return 0

    def sample(self, split: str | None, count: int) -> list[dict[str, Any]]:
        """The first rows of ``split`` (``None``: a single Dataset) when they can be read without `datasets`, else []."""
        import pyarrow as pa

        if self.folder is not None:
            folder = self._split_folder(split)
            names = [f.get("filename") for f in _json(folder / "state.json").get("_data_files", [])]
            if not names:
                return []
            with pa.memory_map(str(folder / names[0])) as stream:
                reader = pa.ipc.open_stream(stream)
                try:
                    return reader.read_next_batch().slice(0, count).to_pylist()
                except StopIteration:
                    return []
        file = self.files.get(split or "")
        if file is not None and file.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(file).iter_batches(batch_size=count):
                return batch.to_pylist()
        return []

    def _arrow_rows(self, split: str | None) -> int:
        """Rows of a folder's split, from its arrow files (memory-mapped: nothing is copied)."""
        import pyarrow as pa

        folder = self._split_folder(split)
        total = 0
        for entry in _json(folder / "state.json").get("_data_files", []):
            with pa.memory_map(str(folder / entry.get("filename", ""))) as stream:
                total += sum(batch.num_rows for batch in pa.ipc.open_stream(stream))
        return total

    def _split_folder(self, split: str | None) -> Path:
        assert self.folder is not None
        if self.single():
            return self.folder
        if split is None:
            names = self.split_names() or []
            split = names[0] if names else ""
        return self.folder / split

    # -- loading -------------------------------------------------------------
    def open(self) -> Mapping[str | None, Any]:
        """The dataset's splits (``{None: dataset}`` for a folder holding one Dataset)."""
        if self.folder is not None:
            if not self.present():
                raise DataError(self.missing_message())
            from datasets import Dataset, load_from_disk

            try:
                data = load_from_disk(str(self.folder))
            except Exception as error:  # a damaged folder: datasets raises many kinds
                raise DataError(f"{self.folder}: cannot load it with datasets.load_from_disk ({type(error).__name__}: {error}); "
                                f"save it again (task card {self.card})") from None
            return {None: data} if isinstance(data, Dataset) else dict(data)
        if self.files:
            missing = [str(f) for f in self.files.values() if not f.is_file()]
            if missing:
                raise DataError(f"task card {self.card}: data file(s) {', '.join(missing)} not found")
            from datasets import load_dataset

            out = {}
            for split, file in self.files.items():
                try:
                    out[split] = load_dataset(BUILDERS[file.suffix.lower()], data_files={split: str(file)}, split=split)
                except Exception as error:
                    raise DataError(f"{file}: cannot read it ({type(error).__name__}: {error}); task card {self.card}") from None
            return out
        return self._open_hub()

    def _open_hub(self) -> Mapping[str | None, Any]:
        from datasets import load_dataset

        ref = self.ref
        try:
            return dict(load_dataset(ref.hub, ref.config, revision=ref.revision))
        except Exception as error:  # no hub, unknown id, a script-only dataset...: datasets raises many kinds
            args = ", ".join(repr(a) for a in (ref.hub, ref.config) if a)
            raise DataError(
                f"cannot load {ref.describe()} (task card {self.card}): {type(error).__name__}: {error}. "
                f"Without a hub, save it on a machine that has one: python -c \"from datasets import load_dataset; "
                f"load_dataset({args}).save_to_disk('FOLDER')\", copy FOLDER here and point the card at it: "
                "dataset: {path: FOLDER}"
            ) from None

    def missing_message(self) -> str:
        return (
            f"{self.ref.describe()} (task card {self.card}) is not here: {self.folder} has no save_to_disk dataset. "
            f"Make it on a machine with a hub: python -c \"from datasets import load_dataset; "
            f"load_dataset('ID', 'CONFIG').save_to_disk('{self.folder}')\" (T0's held-out tasks: python {SAVE_SCRIPT}), "
            "or point the card at the hub: dataset: {hub: ID, config: CONFIG}"
        )


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable datasets metadata file ({error}); save the dataset again") from None
    return data if isinstance(data, dict) else {}
