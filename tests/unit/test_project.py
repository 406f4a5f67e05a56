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


def test_check_is_skipped_only_while_nothing_it_reads_changed(tmp_path, monkeypatch):
    import shutil

    import generator.emit as emit
    from generator.emit import CHECK_STAMP, check_cached

    def no_render(*_a, **_k):
        raise AssertionError("rendered although nothing changed")

    root = tmp_path / "proj"
    for d in ("models", "seeds", "tests/dbt"):
        shutil.copytree(ROOT / d, root / d)
    for f in ("dbt_project.yml", "V2_SYNC_PIPELINE_GUIDE.md"):
        shutil.copy(ROOT / f, root / f)
    first = check_cached(root, allow_unmapped=True)
    assert first.stale == [] and (root / CHECK_STAMP).exists()
    with monkeypatch.context() as m:
        m.setattr(emit, "generate_project", no_render)
        assert check_cached(root, allow_unmapped=True) == first  # from the stamp
    model = root / "models" / "v2" / "user" / "user.sql"
    model.write_text(model.read_text() + "-- edited by hand\n")
    assert check_cached(root, allow_unmapped=True).stale == ["models/v2/user/user.sql"]
    assert check_cached(root, allow_unmapped=True).stale == ["models/v2/user/user.sql"]
    model.write_text(model.read_text().replace("-- edited by hand\n", ""))
    assert check_cached(root, allow_unmapped=True).stale == []


def test_handwritten_baseline_is_written_from_the_current_spec():
    import importlib.util

    from generator.spec import load_spec

    path = ROOT / "benchmarks" / "write_handwritten.py"
    spec_ = importlib.util.spec_from_file_location("write_handwritten", path)
    mod = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(mod)
    text = mod.render(load_spec(ROOT))
    assert "-- @section a" in text and "-- @section epilogue" in text
    assert text == (ROOT / "benchmarks" / "handwritten.sql").read_text(), (
        "benchmarks/handwritten.sql is stale: python benchmarks/write_handwritten.py")
