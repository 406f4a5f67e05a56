"""Key paths and the sensitivity rule: encoding round trips, escaping, pattern matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.keypath import decode_path, encode_path, is_sensitive, mask

PATTERNS = ["password", "*api_key*", "*token*", "*secret*", "*_sub", "stripe_*"]


@pytest.mark.parametrize("path,decoded", [
    ("email", ("email", None, "top")),
    ("avatar.path", ("avatar", "path", "object")),
    ("history[].event", ("history", "event", "array")),
    ("a\\.b", ("a.b", None, "top")),
    ("we\\[ird\\]\\\\.x", ("we[ird]\\", "x", "object")),
])
def test_paths_round_trip(path, decoded):
    assert decode_path(path) == decoded
    assert encode_path(*decoded) == path


def test_sensitive_rule_is_a_pattern_list():
    assert is_sensitive("google_sub", PATTERNS)
    assert is_sensitive("stripe_customer_id", PATTERNS)
    assert is_sensitive("meta.refresh_token", PATTERNS)
    assert not is_sensitive("email", PATTERNS)


_KEYS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=40)


@given(key=_KEYS, sub=st.one_of(st.none(), _KEYS), kind=st.sampled_from(["object", "array"]))
def test_any_key_path_encodes_and_decodes_exactly(key, sub, kind):
    kind = "top" if sub is None else kind
    assert decode_path(encode_path(key, sub, kind)) == (key, sub, kind)


def test_mask_hides_the_value_and_keeps_its_length():
    assert mask("hunter22") == "***masked (8 chars)***"


@pytest.mark.parametrize("path,steps", [
    ("a.b.c", (("a", False), ("b", False), ("c", False))),
    ("a[].b.c", (("a", True), ("b", False), ("c", False))),
    ("a.b[].c", (("a", False), ("b", True), ("c", False))),
    ("tags[]", (("tags", True),)),
    ("x\\.y[].z\\[0\\]", (("x.y", True), ("z[0]", False))),
])
def test_paths_of_any_depth_parse_and_format_back(path, steps):
    from generator.keypath import format_path, parse_path

    assert parse_path(path) == steps
    assert format_path(steps) == path


@pytest.mark.parametrize("bad", ["a[b", "a]", "a[]b", "a\\"])
def test_unencoded_paths_are_refused(bad):
    from generator.keypath import parse_path

    with pytest.raises(ValueError):
        parse_path(bad)


@given(steps=st.lists(st.tuples(_KEYS, st.booleans()), min_size=1, max_size=5))
def test_any_steps_round_trip(steps):
    from generator.keypath import format_path, parse_path

    assert parse_path(format_path(steps)) == tuple(steps)


def test_ancestors_and_sensitivity_reach_every_level():
    from generator.keypath import ancestors

    assert ancestors("a.b.c") == ["a.b", "a"]
    assert is_sensitive("profile.oauth.refresh_token", PATTERNS)
