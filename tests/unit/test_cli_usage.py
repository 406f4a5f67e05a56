"""The command contract without a server: usage errors exit 2, project errors exit 1, one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from generator.cli import cli

# (arguments, exit code, words of the last stderr line)
CASES = [
    (["frobnicate"], 2, "No such command"),
    (["fixtures", "--bogus"], 2, "No such option"),
    (["fixtures", "--scale", "0"], 1, "Error: --scale must be > 0, got 0.0"),
    (["fixtures", "--scale", "-1"], 1, "Error: --scale must be > 0, got -1.0"),
    (["discover", "--table", "nosuch"], 2, "unknown V1 table 'nosuch'"),
    (["discover", "--jobs", "0"], 2, "Invalid value for '--jobs'"),
    (["mirror", "--tables", "nosuch", "--source-dsn", "postgresql://x@h/db"], 2,
     "unknown V1 table 'nosuch'"),
    (["--dsn", "postgresql://u:p%ZZass@h/db", "db", "status"], 1, "invalid --dsn"),
    (["dashboard", "--port", "0"], 2, "Invalid value for '--port'"),
    (["demo", "--scale", "0"], 1, "--scale must be > 0"),
    (["mirror", "--source-dsn", "postgresql://x@h/db", "--v2-workspace", "0"], 2,
     "Invalid value for '--v2-workspace'"),
    (["publish", "--v2-workspace", "7"], 2, "Missing option '--target-dsn'"),
    (["publish", "--target-dsn", "postgresql://x@h/db"], 2, "Missing option '--v2-workspace'"),
    (["publish", "--target-dsn", "postgresql://x@h/db", "--v2-workspace", "0"], 2,
     "Invalid value for '--v2-workspace'"),
    (["publish", "--target-dsn", "postgresql://u:p%ZZass@h/db", "--v2-workspace", "7"], 1,
     "invalid --target-dsn"),
    (["publish", "--target-dsn", "postgresql://x@h/db", "--v2-workspace", "7", "--select",
      "nosuch"], 1, "unknown --select 'nosuch'"),
]


@pytest.mark.parametrize("args,code,words", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_line_and_the_right_exit_code(args, code, words, monkeypatch):
    for var in ("PGHOST", "PGHOSTADDR", "PGSERVICE", "XANO_DSN", "XANO_TARGET_DSN",
                "XANO_V2_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    if args[0] in ("demo", "publish"):  # bad input must fail before any server is needed
        monkeypatch.setenv("PGHOST", "/nonexistent")
    res = CliRunner().invoke(cli, args, prog_name="python -m generator")
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert words in lines[-1]
    assert "p%ZZass" not in res.output


def test_status_help_states_the_configured_tolerance():
    res = CliRunner().invoke(cli, ["status", "--help"])
    assert "more than 5%" in res.output
