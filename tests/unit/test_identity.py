"""The identity rules that need no server: evidence, decisions, the order keys allow."""

from __future__ import annotations

from dataclasses import replace

import pytest

from generator.config import IDENTITY_DECISIONS_FILE
from generator.errors import PublishError
from generator.live import LiveTable
from generator.publish.identity import load_decisions, pairing_order, same_record

from .small_spec import small_spec

CASES = [  # (live row, local row, skipped, verdict)
    ({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "c": 3}, set(), "same"),
    ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 3, "d": 5}, set(), "same"),
    ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 9, "d": 8}, set(), "unsure"),
    ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 9, "b": 8, "c": 7, "d": 4}, set(), "other"),
    ({"a": 1, "b": 2}, {"a": 1, "b": 2}, set(), "unsure"),  # too few fields to tell
    ({"a": 1, "b": None, "c": 3}, {"a": 1, "b": 2, "c": 3}, set(), "unsure"),  # NULL: no say
    ({"a": 1, "b": 2, "c": 3, "e": 0}, {"a": 1, "b": 2, "c": 3, "e": 1}, {"e"}, "same"),
]


@pytest.mark.parametrize("live,local,skip,verdict", CASES)
def test_same_id_other_key_is_decided_by_the_share_of_equal_fields(live, local, skip, verdict):
    assert same_record(live, local, skip)[0] == verdict


def _decide(tmp_path, text: str):
    path = tmp_path / IDENTITY_DECISIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("v2_table,local_id,decision,live_id,note\n" + text)
    return load_decisions(tmp_path, {"u"})


def test_decisions_are_read_and_every_bad_line_is_named(tmp_path):
    assert load_decisions(tmp_path, {"u"}) == []  # no file: no decisions
    got = _decide(tmp_path, "u,5,pair,7,same person\nu,9,new,,another person\n")
    assert [(d.k, d.decision, d.live_id, d.row) for d in got] == [(5, "pair", 7, 2),
                                                                  (9, "new", None, 3)]
    with pytest.raises(PublishError) as err:
        _decide(tmp_path, "u,5,merge,,\nx,1,pair,1,\nu,6,pair,,\nu,a,new,,\nu,7,pair,7,\n"
                          "u,8,pair,7,\n")
    msg = str(err.value)
    for part in ("csv:2: decision must be 'pair' or 'new'", "csv:3: 'x' is not a main V2 table",
                 "csv:4: decision 'pair' needs the live_id", "csv:5: local_id and live_id must",
                 "csv:7: u live 7 is decided twice (line 6)", "nothing was written"):
        assert part in msg, (part, msg)


def test_a_table_whose_key_names_another_is_paired_after_it_and_a_cycle_is_refused():
    spec = small_spec()
    u, t = spec.table("u"), spec.table("t")
    keyed = [replace(u, natural_key=("email",)), replace(t, natural_key=("owner_id",))]
    lts = [LiveTable(x, "public", x.name) for x in reversed(keyed)]  # t listed first
    assert [lts[i].table.name for i in pairing_order(lts)] == ["u", "t"]
    owner = next(c for c in u.columns if c.name == "email")
    cyc = [replace(keyed[0], natural_key=("email",), columns=(*u.columns, replace(
        owner, name="deal_id", references="t"))), keyed[1]]
    cyc[0] = replace(cyc[0], natural_key=("deal_id",))
    with pytest.raises(PublishError, match="natural keys reference each other in a cycle"):
        pairing_order([LiveTable(x, "public", x.name) for x in cyc])
