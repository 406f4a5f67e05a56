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
