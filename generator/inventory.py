"""The V1 key inventory as typed values, and its two CSV files in seeds/ (the one owner).

``seeds/xano_v1_key_inventory.csv`` holds one :class:`KeyProfile` per key path,
``seeds/xano_v1_table_inventory.csv`` one :class:`TableProfile` per scanned V1 table. Everything
that needs the inventory (generation, coverage, the guide, the dashboard, the sync's preflight)
reads it through :func:`read_inventory`; only discovery writes it, through
:func:`write_inventory`. Files are read and written without newline translation: a V1 key may
hold a carriage return.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields
from pathlib import Path

from generator.config import KEY_INVENTORY_FILE, TABLE_INVENTORY_FILE
from generator.errors import InventoryError


@dataclass
class KeyProfile:
    """Profile of one key path in one V1 table (a row of the inventory CSV)."""

    v1_table: str
    key_path: str
    kind: str
    rows_total: int = 0
    rows_with_key: int = 0
    occurrences: int = 0
    null_count: int = 0
    empty_string_count: int = 0
    n_string: int = 0
    n_number: int = 0
    n_boolean: int = 0
    n_object: int = 0
    n_array: int = 0
    str_integer: int = 0
    str_decimal: int = 0
    str_boolean: int = 0
    str_date: int = 0
    str_timestamp: int = 0
    str_uuid: int = 0
    str_email: int = 0
    num_integer: int = 0
    num_fractional: int = 0
    num_epoch_ms: int = 0
    num_epoch_s: int = 0
    num_zero_one: int = 0
    num_big_integer: int = 0
    min_length: int | None = None
    max_length: int | None = None
    min_array_length: int | None = None
    max_array_length: int | None = None
    inferred_type: str = ""
    drift_share: float = 0.0
    sensitive: bool = False
    example: str = ""
    example_id: int | None = field(default=None, repr=False)

    @property
    def values(self) -> int:
        """Non-null, non-empty values."""
        return self.occurrences - self.null_count - self.empty_string_count

    @property
    def row_share(self) -> float:
        """Share of the table's rows that have this key."""
        return self.rows_with_key / self.rows_total if self.rows_total else 0.0


CSV_FIELDS = [f.name for f in fields(KeyProfile) if f.name != "example_id"]
"""Columns of the key inventory CSV."""


@dataclass
class TableProfile:
    """Row-level figures of one V1 table."""

    v1_table: str
    relation: str
    xano_table_id: int
    rows: int = 0
    xdo_null: int = 0
    xdo_not_object: int = 0
    keys: int = 0


TABLE_FIELDS = [f.name for f in fields(TableProfile)]
"""Columns of the table inventory CSV."""


@dataclass(frozen=True)
class Inventory:
    """The whole inventory: key profiles and table profiles, in file order."""

    keys: tuple[KeyProfile, ...] = ()
    """Every key path of every scanned V1 table."""
    tables: tuple[TableProfile, ...] = ()
    """Every scanned V1 table."""

    def keys_of(self, v1_table: str) -> list[KeyProfile]:
        """Key profiles of one V1 table."""
        return [k for k in self.keys if k.v1_table == v1_table]

    def table(self, v1_table: str) -> TableProfile | None:
        """Table profile of one V1 table (None when never scanned)."""
        return next((t for t in self.tables if t.v1_table == v1_table), None)

    def top_level_paths(self, v1_table: str) -> set[str]:
        """Encoded top-level key paths of one V1 table."""
        return {k.key_path for k in self.keys if k.v1_table == v1_table and k.kind == "top"}


# -- CSV text -------------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_csv(rows: list, columns: list[str]) -> str:
    """Deterministic CSV text (LF line ends, minimal quoting) of dataclass rows.

    A row with a carriage return in a cell (a V1 key may hold one) is written fully quoted:
    with LF line ends the csv module would leave that CR bare and split the row on reading.

    >>> render_csv([TableProfile("t", "a\\rb", 1)], ["v1_table", "relation"])
    'v1_table,relation\\n"t","a\\rb"\\n'
    """
    buf = io.StringIO()
    minimal = csv.writer(buf, lineterminator="\n")
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    minimal.writerow(columns)
    for r in rows:
        cells = [_cell(getattr(r, c)) for c in columns]
        (quoted if any("\r" in c for c in cells) else minimal).writerow(cells)
    return buf.getvalue()


def _typed(cls: type, row: dict[str, str], where: str):
    """A dataclass instance from CSV strings, each field converted by its declared type."""
    values = {}
    for f in fields(cls):
        if f.name not in row or not f.init:
            continue
        raw = row[f.name] if row[f.name] is not None else ""
        kind = str(f.type)
        try:
            if kind == "str":
                values[f.name] = raw
            elif kind == "bool":
                values[f.name] = raw == "true"
            elif kind == "float":
                values[f.name] = float(raw or 0)
            elif "None" in kind:
                values[f.name] = int(raw) if raw != "" else None
            else:
                values[f.name] = int(raw or 0)
        except ValueError:
            raise InventoryError(f"{where}: {f.name} is not a number: {raw!r}") from None
    return cls(**values)


def parse_keys(text: str, where: str = KEY_INVENTORY_FILE) -> list[KeyProfile]:
    """Key profiles from key-inventory CSV text.

    >>> parse_keys(render_csv([KeyProfile("user", "email", "top", rows_total=3)], CSV_FIELDS)
    ...            )[0].rows_total
    3
    """
    return [_typed(KeyProfile, r, f"{where}:{i}")
            for i, r in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2)]


def parse_tables(text: str, where: str = TABLE_INVENTORY_FILE) -> list[TableProfile]:
    """Table profiles from table-inventory CSV text."""
    return [_typed(TableProfile, r, f"{where}:{i}")
            for i, r in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2)]


def sort_profiles(profiles: list[KeyProfile]) -> list[KeyProfile]:
    """Stable order: table, then path (byte order)."""
    return sorted(profiles, key=lambda p: (p.v1_table, p.key_path.encode()))


def render_inventory(inventory: Inventory) -> dict[str, str]:
    """File name -> CSV text of both inventory files."""
    return {
        KEY_INVENTORY_FILE: render_csv(sort_profiles(list(inventory.keys)), CSV_FIELDS),
        TABLE_INVENTORY_FILE: render_csv(sorted(inventory.tables, key=lambda t: t.v1_table),
                                         TABLE_FIELDS),
    }


# -- files ----------------------------------------------------------------------------------------
def read_exact(path: Path) -> str:
    """File text without newline translation (a CR inside a quoted key stays a CR)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def read_inventory(root: Path) -> Inventory:
    """The committed inventory (empty when the files do not exist yet)."""
    paths = (root / KEY_INVENTORY_FILE, root / TABLE_INVENTORY_FILE)
    try:
        keys = parse_keys(read_exact(paths[0])) if paths[0].exists() else []
        tables = parse_tables(read_exact(paths[1])) if paths[1].exists() else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InventoryError(f"cannot read the inventory in {root / 'seeds'}: {exc}") from None
    return Inventory(tuple(keys), tuple(tables))


def write_inventory(root: Path, inventory: Inventory) -> list[str]:
    """Write both inventory files where their bytes change; returns the files written."""
    written = []
    for name, text in render_inventory(inventory).items():
        path = root / name
        if not path.exists() or read_exact(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            written.append(name)
    return written
