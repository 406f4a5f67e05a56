"""The typed inventory: CSV round trips, the committed files, hostile key text (no server)."""

from __future__ import annotations

import shutil

import pytest

from generator.config import KEY_INVENTORY_FILE, TABLE_INVENTORY_FILE
from generator.errors import InventoryError
from generator.inventory import (
    Inventory,
    KeyProfile,
    TableProfile,
    read_exact,
    read_inventory,
    render_inventory,
    write_inventory,
)

from ..conftest import ROOT


def test_committed_inventory_reads_typed_and_renders_byte_identical():
    inv = read_inventory(ROOT)
    assert inv.keys and inv.tables
    user = inv.table("user")
    assert isinstance(user.rows, int) and user.rows > 0
    assert all(isinstance(k.drift_share, float) and isinstance(k.sensitive, bool)
               for k in inv.keys)
    rendered = render_inventory(inv)
    assert rendered[KEY_INVENTORY_FILE] == read_exact(ROOT / KEY_INVENTORY_FILE)
    assert rendered[TABLE_INVENTORY_FILE] == read_exact(ROOT / TABLE_INVENTORY_FILE)


@pytest.mark.parametrize("key", ["plain", "a,b", 'say "hi"', "cr\r", "lf\nx", "crlf\r\n",
                                 "é🎉", " lead", "trail "])
def test_any_key_text_round_trips_through_the_files(tmp_path, key):
    inv = Inventory(
        (KeyProfile("t", key, "top", rows_total=3, rows_with_key=2, occurrences=2, null_count=1,
                    min_length=None, max_length=7, inferred_type="text", drift_share=0.5,
                    sensitive=True, example=key),),
        (TableProfile("t", "mvpw1_9", 9, rows=3, keys=1),))
    assert write_inventory(tmp_path, inv) == [KEY_INVENTORY_FILE, TABLE_INVENTORY_FILE]
    back = read_inventory(tmp_path)
    assert back == inv
    assert write_inventory(tmp_path, back) == []  # same bytes: nothing rewritten


def test_missing_files_read_as_an_empty_inventory(tmp_path):
    assert read_inventory(tmp_path) == Inventory()


def test_a_broken_number_names_file_and_row(tmp_path):
    (tmp_path / "seeds").mkdir()
    shutil.copy(ROOT / TABLE_INVENTORY_FILE, tmp_path / TABLE_INVENTORY_FILE)
    text = (tmp_path / TABLE_INVENTORY_FILE).read_text().splitlines()
    text[2] = text[2].replace(text[2].split(",")[3], "many", 1)
    (tmp_path / TABLE_INVENTORY_FILE).write_text("\n".join(text) + "\n")
    with pytest.raises(InventoryError, match=r"xano_v1_table_inventory.csv:3: \w+ is not a number"):
        read_inventory(tmp_path)
