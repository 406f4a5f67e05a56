"""The command contract: bad input gives one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import pytest

from ..conftest import run_cli

pytestmark = pytest.mark.compat  # also run on PostgreSQL 15 in CI


def _one_line_error(res):
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert lines, "expected an error message on stderr"
    return lines[-1]


def test_unknown_subcommand_is_usage_error():
    res = run_cli("frobnicate")
    assert res.returncode == 2
    assert "No such command" in _one_line_error(res)


def test_unknown_option_is_usage_error():
    res = run_cli("fixtures", "--bogus")
    assert res.returncode == 2
    assert "No such option" in _one_line_error(res)


@pytest.mark.parametrize("scale", ["0", "-1"])
def test_non_positive_scale_is_rejected(scale):
    res = run_cli("fixtures", "--scale", scale)
    assert res.returncode == 1
    assert _one_line_error(res) == f"Error: --scale must be > 0, got {float(scale)}"


def test_unreachable_dsn_is_one_line():
    res = run_cli("--dsn", "postgresql://u:s3cretpw@127.0.0.1:1/db", "db", "status")
    assert res.returncode == 1
    line = _one_line_error(res)
    assert line.startswith("Error: cannot connect to 127.0.0.1:1/db")
    assert "s3cretpw" not in res.stderr + res.stdout


def test_invalid_dsn_is_one_line_and_does_not_echo_it():
    res = run_cli("--dsn", "postgresql://u:p%ZZass@h/db", "db", "status")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "p%ZZass" not in res.stderr
    assert "invalid --dsn" in res.stderr


def test_pgservice_is_refused_clearly():
    res = run_cli("db", "status", env={"PGSERVICE": "prod"})
    assert res.returncode == 1 and "PGSERVICE" in res.stderr


def test_unknown_table_for_discover_is_usage_error():
    res = run_cli("discover", "--table", "nosuch")
    assert res.returncode == 2
    assert "unknown V1 table 'nosuch'" in _one_line_error(res)
