"""Reading YAML fast: libyaml's C loader when PyYAML has it (the pure-Python one takes ~10x
longer on the generated domain files, which every sync reads)."""

from __future__ import annotations

from pathlib import Path

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path):
    """The YAML document of ``path`` (safe types only)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
