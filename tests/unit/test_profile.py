"""Profile math: type inference from value counts (no server)."""

from __future__ import annotations

from generator.inventory import KeyProfile
from generator.profile import infer_type


def test_inference_prefers_specific_types():
    p = KeyProfile("t", "k", "top", occurrences=100, n_number=100, num_zero_one=100)
    assert infer_type(p)[0] == "bigint"
    p = KeyProfile("t", "k", "top", occurrences=10, n_string=10, str_uuid=9)
    assert infer_type(p) == ("uuid", 0.1)
    p = KeyProfile("t", "k", "top", occurrences=10, n_number=9, num_epoch_ms=9, n_string=1)
    assert infer_type(p) == ("timestamptz", 0.1)
    p = KeyProfile("t", "k", "top", occurrences=10, n_string=5, n_object=5)
    assert infer_type(p) == ("jsonb", 0.0)
