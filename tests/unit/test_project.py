"""The committed project: generated files equal what the generator renders now (no server)."""

from __future__ import annotations

from generator.emit import fill_yaml_blocks, generate_project, project_vars_block

from ..conftest import ROOT


def test_committed_generated_files_are_up_to_date():
    result = generate_project(ROOT, check=True, allow_unmapped=True)
    assert result.stale == []
    assert result.tables == 23


def test_dbt_vars_come_from_the_config_module():
    text = (ROOT / "dbt_project.yml").read_text()
    assert "xano_count_tolerance: 0.05 " in project_vars_block()
    assert fill_yaml_blocks(text, {"vars": project_vars_block()}) == text
    changed = fill_yaml_blocks(text, {"vars": "  xano_count_tolerance: 0.5\n"})
    assert "xano_count_tolerance: 0.5\n" in changed and "xano_reject_fail_share" not in changed
