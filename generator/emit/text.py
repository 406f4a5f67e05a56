"""Text helpers of the generated files: headers, YAML, Jinja-safe text, placeholders.

sqlglot cannot parse Jinja, so SQL is built over plain placeholder names and turned into
``{{ this }}`` / ``{{ ref() }}`` here, after rendering; V1-derived text is made Jinja-inert.
"""

from __future__ import annotations

import re

import yaml

from generator.config import GENERATED_HEADER, V1_SOURCE
from generator.spec import PH_REF, PH_ROWS, PH_SOURCE, PH_STAGE, PH_THIS


def sql_header(extra: str = "") -> str:
    """The generated-file comment lines of a SQL file."""
    return f"-- {GENERATED_HEADER}\n" + (f"-- {extra}\n" if extra else "")


def yaml_doc(doc: dict) -> str:
    """A generated YAML file (2-space indent, keys in insertion order)."""
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)
    return f"# {GENERATED_HEADER}\n" + body


def jinja_literal(text: str) -> str:
    """Keep V1-derived text from being read as Jinja by dbt.

    Every ``{`` that could open a Jinja construct (``{{``, ``{%``, ``{#``) is written as
    ``{{ '{' }}``, which renders back to ``{``: no raw block for a key to close early.

    >>> jinja_literal("a{{ x }}{%endraw%}")
    "a{{ '{' }}{ x }}{{ '{' }}%endraw%}"
    """
    return re.sub(r"\{(?=[{%#])", "{{ '{' }}", text)


def indent(sql: str, n: int = 4) -> str:
    """Indent every non-empty line by ``n`` spaces.

    Splits on "\\n" only: str.splitlines() also splits on \\x1c-\\x1e, \\x85, \\u2028 ... which
    may stand inside a quoted key.

    >>> indent("a\\n\\nb", 2)
    '  a\\n\\n  b'
    """
    pad = " " * n
    return "\n".join(pad + ln if ln else ln for ln in sql.split("\n"))


def sql_text(expression, width: int = 80) -> str:
    """Rendered, Jinja-safe SQL of a sqlglot expression, placeholders turned into Jinja."""
    from generator.sql import build  # imported here: build imports generator.spec too

    return placeholders(jinja_literal(build.render(expression, width)))


def placeholders(sql: str) -> str:
    """``"__dbt_this__"`` -> ``{{ this }}``; ``"__ref__<name>"`` -> ``{{ ref('<name>') }}``;
    ``"__source__<name>"`` -> ``{{ source(V1_SOURCE, '<name>') }}``;
    ``"__rows__<scope>__<name>"`` -> ``({{ xano_v1_rows('<name>', '<scope>') }}) AS "rows"``;
    ``"__stage__<scope>.<v1>.<stage>.<column>"`` -> ``(select * from {{ ref('<stage>') }}
    {{ xano_changed_where('<v1>', '<scope>', '<column>') }})``.

    Names are validated plain identifiers (V2 tables) or registry names; placeholders are
    quoted identifiers, so V1 text (always a literal) can never produce one.

    >>> placeholders('select * from "__ref__user" join "__dbt_this__"')
    "select * from {{ ref('user') }} join {{ this }}"
    """
    sql = sql.replace(f'"{PH_THIS}"', "{{ this }}")
    sql = re.sub(f'"{PH_REF}([A-Za-z0-9_]+)"', lambda m: f"{{{{ ref('{m.group(1)}') }}}}", sql)
    sql = re.sub(f'"{PH_ROWS}([a-z]+)__([A-Za-z0-9_]+)"',
                 lambda m: f"({{{{ xano_v1_rows('{m.group(2)}', '{m.group(1)}') }}}}) AS \"rows\"",
                 sql)
    sql = re.sub(f'"{PH_STAGE}([a-z]+)\\.([A-Za-z0-9_]+)\\.([A-Za-z0-9_]+)\\.([a-z0-9_]+)"',
                 lambda m: (f"(select * from {{{{ ref('{m.group(3)}') }}}}"
                            f"{{{{ xano_changed_where('{m.group(2)}', '{m.group(1)}', "
                            f"'{m.group(4)}') }}}})"), sql)
    return re.sub(f'"{PH_SOURCE}([A-Za-z0-9_]+)"',
                  lambda m: f"{{{{ source('{V1_SOURCE}', '{m.group(1)}') }}}}", sql)
