"""The transform vocabulary: one table from which the spec check, the SQL, the docs read.

Each transform turns one V1 jsonb value into a V2 value through a function in schema
``xano_fn`` (macros/xano_functions.sql); a value that does not fit becomes NULL there and a row
in the rejects, labelled with ``reject_label``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transform:
    """One transform of the mapping spec."""

    name: str
    """Name used in ``seeds/xano_v2_columns.csv``."""
    v2_type: str
    """PostgreSQL type of the V2 column it produces."""
    function: str | None
    """Function in schema xano_fn that applies it (None: an identity column, no V1 value)."""
    reject_label: str
    """Target type as shown in a reject row."""
    doc: str
    """One-line behaviour, shown in the guide and in the dbt docs."""
    fits: str | None = None
    """Which of the inventory's fit counts (generator.profile.fits) says how many V1 values this
    transform can take; None when every value fits."""


_ALL = (
    Transform("id", "bigint", None, "bigint",
              "row identity (V1 id, parent id or array position); never null"),
    Transform("bigint", "bigint", "to_bigint", "bigint",
              "JSON integer or integer string -> bigint; fractions, overflow, text -> reject",
              "bigint"),
    Transform("numeric", "numeric", "to_numeric", "numeric",
              "JSON number or numeric string (\"1,234.50\" accepted) -> numeric", "numeric"),
    Transform("boolean", "boolean", "to_boolean", "boolean",
              "true/false, 1/0, \"true\"/\"yes\"/\"1\"/... -> boolean", "boolean"),
    Transform("epoch_ms", "timestamptz", "epoch_ms_to_timestamptz", "timestamptz (epoch ms)",
              "Unix epoch milliseconds -> timestamptz (values < 1e11 are read as seconds; "
              "exact to the microsecond for years 1827-2112, within 30 µs up to 9999)",
              "timestamptz"),
    Transform("date", "date", "to_date", "date",
              "\"YYYY-MM-DD\" -> date (impossible dates like 2023-02-30 -> reject)", "date"),
    Transform("text", "text", "to_text", "text", "scalar -> text as is", "text"),
    Transform("trim", "text", "trim_text", "text",
              "scalar -> text with surrounding whitespace (incl. NBSP) removed", "text"),
    Transform("lower_trim", "text", "lower_trim", "text",
              "scalar -> trimmed, lower-cased text (emails)", "text"),
    Transform("image_url", "text", "image_url", "text (image path)",
              "Xano image object -> its path (a plain string is kept)"),
    Transform("jsonb", "jsonb", "to_jsonb_value", "jsonb",
              "any JSON value kept as jsonb (JSON null -> NULL)"),
    Transform("closure_path", "jsonb", None, "jsonb",
              "closure tables: the ids from ancestor to descendant, as a JSON array"),
)

TRANSFORMS: dict[str, Transform] = {t.name: t for t in _ALL}
"""Transform name -> Transform, in documentation order."""


def transform(name: str) -> Transform:
    """The transform called ``name``.

    >>> transform("epoch_ms").v2_type
    'timestamptz'
    """
    return TRANSFORMS[name]
