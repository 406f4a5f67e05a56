"""The trust dashboard: real server, real headless Chromium, real synced database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from generator import db as dbmod

from ..conftest import ROOT, clone_db, drop_db, run_cli

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
SCRIPT = "<script>alert('xss')</script>"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def dash_db(pg_server, synced_db):
    target = clone_db(pg_server, synced_db, "dash")
    with dbmod.connect(target) as conn:  # a V1 value holding HTML/JS: it lands in rejects
        conn.execute("update xano_v1.mvpw1_39 set xdo = jsonb_set(xdo, '{created_at}', %s::jsonb) "
                     "where id = 1", (f'"{SCRIPT}"',))
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    yield target
    drop_db(pg_server, target)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(dash_db):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(dash_db.dbt_env(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "generator", "dashboard", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "api/counts", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


def _browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def test_page_numbers_equal_live_counts_and_v1_html_is_text(dash_db, server):
    pw, browser = _browser()
    try:
        page = browser.new_page(viewport={"width": 1300, "height": 1600})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server)
        page.wait_for_selector(".sankey svg .sankey-node", timeout=30000)
        assert page.locator("div.sankey[data-domain]").count() == 5
        assert page.locator("div.sankey[data-domain] .sankey-node").count() >= 23 + 6
        with dbmod.connect(dash_db) as conn:
            for layer, table, rel in (("v1", "network", "xano_v1.mvpw1_48"),
                                      ("v2", "participant", "xano_v2.participant"),
                                      ("v2", "transaction_history", "xano_v2.transaction_history"),
                                      ("v2", "user_credentials", "xano_v2.user_credentials")):
                shown = page.locator(f'tr[data-table="{layer}.{table}"] td.count').inner_text()
                live = conn.execute(f"select count(*) from {rel}").fetchone()[0]
                assert int(shown.replace(",", "")) == live, table
        rejects = page.locator("#rejects-table").inner_text()
        assert SCRIPT in rejects  # shown as text ...
        assert dialogs == []  # ... and never executed
        assert "$2b$" not in page.content()  # password hashes never rendered
        ARTIFACTS.mkdir(exist_ok=True)
        pg = "pg15" if os.environ.get("XANO_TEST_PG_BIN") else "pg18"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{pg}.png"), full_page=False)
    finally:
        browser.close()
        pw.stop()


def test_report_renders_from_disk_without_network(dash_db, tmp_path):
    out = tmp_path / "report.html"
    res = run_cli("dashboard", "--out", str(out), target=dash_db)
    assert res.returncode == 0, res.stderr
    pw, browser = _browser()
    try:
        page = browser.new_page()
        external = []
        page.on("request", lambda r: external.append(r.url)
                if not r.url.startswith(("file:", "data:", "about:")) else None)
        page.goto(out.as_uri())
        page.wait_for_selector(".sankey svg .sankey-node", timeout=30000)
        assert external == []
        assert SCRIPT in page.locator("#rejects-table").inner_text()
    finally:
        browser.close()
        pw.stop()


def test_sync_endpoint_token_and_one_at_a_time(dash_db):
    from starlette.testclient import TestClient

    from generator.dashboard.app import build_app

    disabled = TestClient(build_app(dash_db, ROOT, token=""))
    assert disabled.post("/api/sync").status_code == 403
    client = TestClient(build_app(dash_db, ROOT, token="s3cret"))
    assert client.post("/api/sync").status_code == 401
    assert client.post("/api/sync", headers={"Authorization": "Bearer wrong"}).status_code == 401
    first = client.post("/api/sync", headers={"Authorization": "Bearer s3cret"})
    assert first.status_code == 202 and first.json()["started"]
    second = client.post("/api/sync", headers={"Authorization": "Bearer s3cret"})
    assert second.status_code == 409
    deadline = time.monotonic() + 180
    with dbmod.connect(dash_db) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select status from xano_audit.sync_runs order by run_id desc "
                               "limit 1").fetchone()
            if row and row[0] != "running" and client.get("/api/runs").json()["running"] is False:
                break
            time.sleep(1)
        assert conn.execute("select status from xano_audit.sync_runs order by run_id desc "
                            "limit 1").fetchone()[0] == "success"
    for part in ("counts", "story", "runs", "integrity", "coverage", "rejects"):
        assert client.get(f"/api/{part}").status_code == 200
    # DNS rebinding: a foreign Host header is refused
    assert client.get("/api/counts", headers={"Host": "evil.example"}).status_code == 400


def test_dashboard_binds_to_loopback_by_default():
    from click.testing import CliRunner

    from generator.cli import cli

    opt = next(p for p in cli.commands["dashboard"].params if p.name == "host")
    assert opt.default == "127.0.0.1"
    assert CliRunner().invoke(cli, ["dashboard", "--port", "0"]).exit_code == 2
