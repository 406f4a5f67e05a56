"""spec draft: names, types, targets and refusals, from a small spec and inventory (no server)."""

from __future__ import annotations

import pytest

from generator.draft import append, draft, snake_name, unique_name
from generator.errors import SpecError
from generator.inventory import Inventory, KeyProfile

from .small_spec import small_spec


def _p(path: str, kind: str = "top", **counts) -> KeyProfile:
    p = KeyProfile("user", path, kind, rows_total=10, rows_with_key=10, occurrences=10,
                   **counts)
    from generator.profile import infer_type

    p.inferred_type, p.drift_share = infer_type(p)
    return p


def _cols(result):
    return {c["v1_path"]: (c["v2_table"], c["column"], c["transform"], c["v2_type"],
                           c["sensitive"]) for c in result.columns}


@pytest.mark.parametrize("path,name", [
    ("US Gross", "us_gross"), ("properties.mag", "properties_mag"), ("Is Active?", "is_active"),
    ("__x__", "x"), ("a.b.c", "a_b_c"), ("Ünïcode", "n_code"), ("!!", ""),
])
def test_snake_case_names(path, name):
    assert snake_name(path) == name


def test_names_are_unique_and_short():
    assert unique_name("id", {"id"}) == "id_2"
    long = unique_name("k" * 62 + "_alpha", set())
    assert len(long.encode()) <= 63 and not long.endswith("_")
    assert unique_name("__ref__x", set()) != "__ref__x"


def test_types_come_from_the_values():
    inv = Inventory((
        _p("created", n_number=10, num_epoch_ms=10),
        _p("Visits", n_number=10, num_integer=10),
        _p("US Gross", n_number=10, num_fractional=10),
        _p("Is Active", n_boolean=10),
        _p("born", n_string=10, str_date=10),
        _p("api_token", n_string=10),
        _p("id", n_string=10),
        _p("tags", n_array=10),
    ))
    cols = _cols(draft(small_spec(), inv, "user"))
    assert cols["created"] == ("u", "created", "epoch_ms", "timestamptz", "false")
    assert cols["Visits"][2:4] == ("bigint", "bigint")
    assert cols["US Gross"][1:4] == ("us_gross", "numeric", "numeric")
    assert cols["Is Active"][1:4] == ("is_active", "boolean", "boolean")
    assert cols["born"][1:4] == ("born_2", "date", "date")  # u.born exists
    assert cols["api_token"][4] == "true"                    # the sensitive pattern list
    assert cols["id"][1] == "id_2"                           # never the primary key
    assert cols["tags"][2:4] == ("jsonb", "jsonb")


def test_objects_get_a_jsonb_column_and_their_leaves_typed_columns():
    inv = Inventory((
        _p("props", n_object=10),
        _p("props.geo", "object", n_object=10),
        _p("props.geo.lat", "object", n_number=10, num_fractional=10),
        _p("props.Mag", "object", n_number=10, num_integer=10),
    ))
    cols = _cols(draft(small_spec(), inv, "user"))
    assert cols == {
        "props": ("u", "props", "jsonb", "jsonb", "false"),
        "props.Mag": ("u", "props_mag", "bigint", "bigint", "false"),
        "props.geo.lat": ("u", "props_geo_lat", "numeric", "numeric", "false"),
    }


def test_keys_inside_an_array_go_to_its_array_table():
    inv = Inventory((KeyProfile("transaction", "tags[].colour", "array", rows_total=5,
                                rows_with_key=5, occurrences=5, n_string=5,
                                inferred_type="text"),))
    cols = _cols(draft(small_spec(), inv, "transaction"))
    assert cols == {"tags[].colour": ("t_tags", "colour", "text", "text", "false")}


def test_a_new_v2_table_is_added_once_and_splits_from_the_main_table():
    result = draft(small_spec(), Inventory((_p("nick"),)), "user", "u_extra")
    assert [(t["v2_table"], t["parent"], t["parent_column"]) for t in result.tables] == [
        ("u_extra", "u", "u_id")]
    assert [c["column"] for c in result.columns] == ["id", "u_id", "nick"]


@pytest.mark.parametrize("args,words", [
    (("nosuch", None), "seeds/xano_v1_tables.csv: V1 table 'nosuch' is not registered"),
    (("user", "t"), "seeds/xano_v2_tables.csv:4: V2 table 't' is fed by V1 transaction"),
    (("user", "bad name"), "--v2-table 'bad name' must be a plain identifier"),
])
def test_refusals_are_one_clear_line(args, words):
    with pytest.raises(SpecError) as err:
        draft(small_spec(), Inventory(), *args)
    assert err.value.problems[0].startswith(words)


def test_a_key_without_a_usable_name_stops_the_draft_naming_its_inventory_row():
    inv = Inventory((_p("fine"), _p("!!")))
    with pytest.raises(SpecError) as err:
        draft(small_spec(), inv, "user")
    assert err.value.problems == [
        "seeds/xano_v1_key_inventory.csv:3: key path '!!' of V1 user has no usable snake_case "
        "name; add its spec row by hand or ignore it in seeds/xano_ignored_keys.csv"]


def test_colliding_names_are_suffixed_and_reported():
    result = draft(small_spec(), Inventory((_p("Foo Bar"), _p("foo_bar"))), "user")
    assert [c["column"] for c in result.columns] == ["foo_bar", "foo_bar_2"]
    assert result.notes == ["Foo Bar and foo_bar both snake_case to foo_bar: drafted as foo_bar "
                            "and foo_bar_2"]


def test_append_keeps_existing_bytes_and_a_second_draft_adds_nothing(tmp_path):
    from generator.spec import build_spec

    from .small_spec import COLUMNS, IGNORED, REGISTRY, TABLES, rows

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds/xano_v2_tables.csv").write_text(TABLES)
    (tmp_path / "seeds/xano_v2_columns.csv").write_text(COLUMNS)
    inv = Inventory((_p("nick", n_string=10), _p("it's, \"quoted\"", n_string=10)))
    written = append(tmp_path, draft(small_spec(), inv, "user"))
    assert written == ["seeds/xano_v2_columns.csv"]
    text = (tmp_path / "seeds/xano_v2_columns.csv").read_text()
    assert text.startswith(COLUMNS) and text.count("\n") == COLUMNS.count("\n") + 2
    spec = build_spec(rows(TABLES), rows(text), rows(IGNORED), registry=REGISTRY)
    again = draft(spec, inv, "user")
    assert again.columns == [] and again.tables == []


def test_a_type_that_would_reject_more_than_the_sync_allows_is_drafted_as_text():
    """A nested key whose values are ~10 % non-integers (the public-data case that stopped a
    sync on the reject share): drafting it bigint would reject 10 % of its values, more than
    REJECT_FAIL_SHARE, so it is drafted text; a key with 1 % stray values stays bigint (its
    rejects stay under the share). The same inference as the evidence proposals (candidates)."""
    from generator.config import REJECT_FAIL_SHARE
    from generator.profile import candidates

    from generator.profile import infer_type

    def profile(path: str, **counts) -> KeyProfile:
        p = KeyProfile("user", path, "object", rows_total=100, rows_with_key=100,
                       occurrences=100, **counts)
        p.inferred_type, p.drift_share = infer_type(p)
        return p

    mostly = profile("stats.count", n_number=90, num_integer=90, n_string=10)
    nearly = profile("stats.total", n_number=99, num_integer=99, n_string=1)
    assert 10 / 100 > REJECT_FAIL_SHARE > 1 / 100
    cols = _cols(draft(small_spec(), Inventory((mostly, nearly)), "user"))
    assert cols["stats.count"][2:4] == ("text", "text")
    assert cols["stats.total"][2:4] == ("bigint", "bigint")
    assert candidates(mostly)[0] == "text" and candidates(nearly)[0] == "bigint"
