"""The trust dashboard: a Starlette app (server-rendered page + JSON) and a static report."""

from __future__ import annotations

import hmac
import os
import subprocess
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route

from generator import db as dbmod
from generator import spec as specmod
from generator.census import read_census
from generator.dashboard import data
from generator.inventory import read_inventory

TOKEN_ENV = "XANO_DASHBOARD_TOKEN"
MAX_DB_CONNECTIONS = 8
HERE = Path(__file__).resolve().parent


def plotly_js_path() -> Path:
    """plotly.min.js shipped inside the plotly wheel (vendored at install time, no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Dashboard:
    """Gathers everything the page shows; one read-only connection per gathering."""

    def __init__(self, target: dbmod.Target, root: Path):
        self.target = target
        self.root = root
        self.gate = threading.BoundedSemaphore(MAX_DB_CONNECTIONS)

    def gather(self, *parts: str) -> dict:
        spec = specmod.load_spec(self.root)
        inventory = read_inventory(self.root)
        out: dict = {}
        with self.gate, dbmod.connect(self.target) as conn:
            data.read_only(conn)
            status = data.counts(conn, spec)
            if "counts" in parts:
                out["counts"] = status
            if "story" in parts:
                out["story"] = data.story(conn, spec, status["tables"], inventory)
            if "runs" in parts:
                out["runs"] = data.runs(conn)
            if "integrity" in parts:
                out["integrity"] = data.integrity(conn, spec)
            if "rejects" in parts:
                out["rejects"] = data.rejects(conn)
            if "publish" in parts:
                out["publish"] = data.publishes(conn)
        if "coverage" in parts:
            out["coverage"] = data.coverage(spec, inventory)
        if "scale" in parts:
            out["scale"] = data.scale(read_census(self.root))
        if "evidence" in parts:
            out["evidence"] = data.evidence(self.root)
        return _jsonable(out)


ALL = ("counts", "story", "runs", "integrity", "coverage", "rejects", "scale", "publish",
       "evidence")
LIVE_ENV = ("XANO_SOURCE_DSN", "XANO_TARGET_DSN", "XANO_V2_WORKSPACE")
"""Env vars that, all set, make the sync button run mirror -> sync -> publish."""


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def render_page(content: dict, live: bool, plotly_inline: str | None, sync_enabled: bool,
                steps: tuple[str, ...] = ("sync",)) -> str:
    """The page: same template for the live app and the self-contained report."""
    return _env().get_template("index.html").render(
        d=content, live=live, plotly_inline=plotly_inline, sync_enabled=sync_enabled,
        steps=steps,
        generated_at=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"))


def render_report(target: dbmod.Target, root: Path) -> str:
    """One self-contained HTML file (plotly inlined, data embedded, no network needed)."""
    content = Dashboard(target, root).gather(*ALL)
    js = plotly_js_path().read_text(encoding="utf-8")
    return render_page(content, live=False, plotly_inline=js, sync_enabled=False)


def live_configured(env: dict | None = None) -> bool:
    """True when the live instance is configured: the button then mirrors and publishes too."""
    env = os.environ if env is None else env
    return all(env.get(k) for k in LIVE_ENV)


class SyncLauncher:
    """Runs the manual trigger in child processes, one at a time: ``sync``, or with a live
    instance configured ``mirror`` -> ``sync`` -> ``publish`` (stops at the first failure)."""

    def __init__(self, target: dbmod.Target, root: Path, live: bool = False):
        self.target, self.root = target, root
        self.steps: tuple[str, ...] = ("mirror", "sync", "publish") if live else ("sync",)
        self.lock = threading.Lock()
        self.busy = False
        self.proc: subprocess.Popen | None = None

    def start(self, running_in_db: bool) -> tuple[int, dict]:
        with self.lock:
            if running_in_db or self.busy:
                return 409, {"error": "a sync is already running"}
            env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
            env.update(self.target.dbt_env(self.root))
            self.busy = True
            self.proc = self._spawn(self.steps[0], env)
            threading.Thread(target=self._follow, args=(env,), daemon=True).start()
            return 202, {"started": True, "pid": self.proc.pid, "steps": list(self.steps)}

    def _spawn(self, step: str, env: dict) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "generator", step], cwd=self.root, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def _follow(self, env: dict) -> None:
        try:
            for step in self.steps[1:]:
                if self.proc.wait() != 0:
                    return
                self.proc = self._spawn(step, env)
            self.proc.wait()
        finally:
            with self.lock:
                self.busy = False


def build_app(target: dbmod.Target, root: Path, token: str | None = None,
              host: str = "127.0.0.1") -> Starlette:
    """The ASGI app. ``token`` (else env XANO_DASHBOARD_TOKEN) enables POST /api/sync, which
    runs mirror -> sync -> publish when XANO_SOURCE_DSN, XANO_TARGET_DSN and XANO_V2_WORKSPACE
    are set, else a sync."""
    dash = Dashboard(target, root)
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    launcher = SyncLauncher(target, root, live=live_configured())

    def page(request: Request):
        return HTMLResponse(render_page(dash.gather(*ALL), live=True, plotly_inline=None,
                                        sync_enabled=bool(token), steps=launcher.steps))

    def api(part: str):
        def endpoint(request: Request):
            return JSONResponse(dash.gather(part)[part])
        return endpoint

    def plotly_js(request: Request):
        return FileResponse(plotly_js_path(), media_type="application/javascript")

    def sync(request: Request):
        if not token:
            return JSONResponse({"error": f"sync endpoint disabled: set {TOKEN_ENV}"},
                                status_code=403)
        given = request.headers.get("authorization", "")
        given = given[7:] if given.lower().startswith("bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        running = dash.gather("runs")["runs"]["running"]
        code, body = launcher.start(running)
        return JSONResponse(body, status_code=code)

    async def error(request: Request, exc: Exception):
        # never leak internals (SQL, paths, values) to a page
        return PlainTextResponse("internal error", status_code=500)

    routes = [Route("/", page), Route("/static/plotly.min.js", plotly_js),
              Route("/api/sync", sync, methods=["POST"])]
    routes += [Route(f"/api/{p}", api(p)) for p in ALL]
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    # Host header check: a page on another origin cannot reach this server through DNS
    # rebinding (names that resolve to 127.0.0.1 but are not ours are refused)
    hosts = sorted({"127.0.0.1", "localhost", "testserver", host})
    return Starlette(routes=routes, exception_handlers={Exception: error},
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def serve(target: dbmod.Target, root: Path, host: str, port: int) -> None:
    """Run the dashboard with uvicorn (blocking)."""
    import uvicorn

    uvicorn.run(build_app(target, root, host=host), host=host, port=port, log_level="warning",
                access_log=False)
