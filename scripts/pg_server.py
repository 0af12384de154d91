#!/usr/bin/env python3
"""The throwaway PostgreSQL 15 server of the tests: the Swift suites (TestPostgres), the fault-test
scripts and the benchmarks all start theirs here.

A directory holds the cluster (`data/`, from `initdb --auth=trust -U relevo -E UTF8 --locale=C`), its
log (`server.log`) and its unix socket. The server listens only on 127.0.0.1 at a free port, with
max_connections 300 and PostgreSQL's defaults otherwise (fsync and synchronous_commit on). initdb
refuses to run as root: then the directory belongs to the `postgres` system user and initdb/pg_ctl
run through `runuser -u postgres --`. `RELEVO_PG_BIN` names another directory of PostgreSQL binaries
(default /usr/lib/postgresql/15/bin).

From the command line:

    python3 scripts/pg_server.py start [DIR]
        initdb's a cluster in DIR (default: a new temporary directory) and starts it, or starts again
        the stopped cluster DIR holds (same port); prints one JSON line
        {"host", "port", "user", "directory", "url"} and exits, leaving the server running.
    python3 scripts/pg_server.py stop DIR [--immediate] [--remove]
        stops it (fast shutdown; --immediate: no shutdown checkpoint, clients cut off, as a crash);
        --remove then deletes DIR. Stopping a server that is not running is not an error.
    python3 scripts/pg_server.py [run] [--database relevo]
        starts one, creates the database, prints its URL, and runs until Ctrl-C or SIGTERM, which
        stop the server and remove its directory.

From Python:

    from pg_server import PostgresServer
    with PostgresServer() as pg:            # stopped and removed on exit, also when the body raises
        url = pg.create_database("relevo")  # postgres://relevo@127.0.0.1:PORT/relevo?sslmode=disable
        pg.restart(down_seconds=4)          # a crash and a recovery
"""
import json, os, pwd, shutil, signal, socket, subprocess, sys, tempfile, time

BIN = os.environ.get("RELEVO_PG_BIN", "/usr/lib/postgresql/15/bin")
USER = "relevo"
HOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, directory=None, max_connections=300, settings=None):
        """`directory`: where the cluster is (or is to be made); None: a new temporary directory."""
        self.directory = directory
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.port = None

    @property
    def data(self):
        return os.path.join(self.directory, "data")

    @property
    def log(self):
        return os.path.join(self.directory, "server.log")

    # -- helpers ---------------------------------------------------------------------------------
    def _as_server_user(self, command):
        """initdb and pg_ctl refuse root: run them as `postgres` when we are root."""
        return ["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command

    def _run(self, command, timeout=120, **kwargs):
        # Children get no descriptor of ours but stdin/stdout/stderr (close_fds), so the postmaster
        # pg_ctl leaves running holds nothing of whoever started this script.
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=timeout, close_fds=True, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                               + self._log_tail())
        return result.stdout

    def _pg_ctl(self, *words, timeout=120):
        # Detached from the terminal (start_new_session): Ctrl-C there must not reach the postmaster. The cluster's
        # directory as working directory: the `postgres` user may not be able to enter ours.
        return self._run(self._as_server_user([f"{BIN}/pg_ctl", *words, "-D", self.data]), timeout=timeout,
                         start_new_session=True, cwd=self.directory)

    def _log_tail(self, lines=20):
        try:
            with open(self.log) as log:
                return "\n--- server log (tail) ---\n" + "".join(log.readlines()[-lines:])
        except Exception:
            return ""

    def _configure(self, settings):
        # postgresql.auto.conf is read last, later lines winning; appending keeps the file's owner (postgres).
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))

    def _configured_port(self):
        with open(os.path.join(self.data, "postgresql.auto.conf")) as conf:
            ports = [line.split("=", 1)[1].strip() for line in conf if line.split("=", 1)[0].strip() == "port"]
        return int(ports[-1])

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self):
        """A new cluster, started; or, when the directory already holds one, that one started again."""
        if not os.access(f"{BIN}/initdb", os.X_OK):
            raise RuntimeError(f"PostgreSQL 15 is not installed at {BIN}; set RELEVO_PG_BIN")
        if self.directory and os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self.port = self._configured_port()
            self._pg_ctl("start", "-w", "-t", "60", "-l", self.log, timeout=90)
            return self
        root = os.geteuid() == 0
        created = self.directory is None or not os.path.exists(self.directory)
        if self.directory is None:
            # As root the directory must be reachable by `postgres`: /tmp is, a root-only $TMPDIR may not be.
            self.directory = tempfile.mkdtemp(prefix="relevo-pg-", dir="/tmp" if root else None)
        os.makedirs(self.directory, exist_ok=True)
        try:
            if root:
                account = pwd.getpwnam("postgres")
                os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._run(self._as_server_user([f"{BIN}/initdb", "-D", self.data, "--auth=trust", "-U", USER,
                                            "-E", "UTF8", "--locale=C", "--no-sync"]), cwd=self.directory)
            for attempt in range(5):  # the free port may be taken between our probe and the bind
                self.port = free_port()
                self._configure({"listen_addresses": f"'{HOST}'", "port": str(self.port),
                                 "unix_socket_directories": f"'{self.directory}'",
                                 "max_connections": str(self.max_connections), **self.settings})
                try:
                    self._pg_ctl("start", "-w", "-t", "60", "-l", self.log, timeout=90)
                    return self
                except RuntimeError:
                    if "already in use" not in self._log_tail(40) or attempt == 4:
                        raise
            return self
        except BaseException:
            self.halt()
            if created:
                shutil.rmtree(self.directory, ignore_errors=True)
            raise

    def running(self):
        """Whether the postmaster of this directory's cluster is alive."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as pid_file:
                os.kill(int(pid_file.readline()), 0)
            return True
        except PermissionError:
            return True
        except (OSError, TypeError, ValueError):
            return False

    def halt(self, immediate=False):
        """Stops the server, if it runs, and keeps its directory: a fast shutdown (an immediate one
        if that does not end, or when `immediate`)."""
        for mode in ["immediate"] if immediate else ["fast", "immediate"]:
            if not self.running():
                return
            try:
                self._pg_ctl("stop", "-w", "-t", "30", "-m", mode, timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        if self.running():
            raise RuntimeError(f"the server in {self.directory} did not stop" + self._log_tail())

    def stop(self):
        """Stops the server and removes its directory."""
        try:
            self.halt()
        finally:
            if self.directory:
                shutil.rmtree(self.directory, ignore_errors=True)
                self.directory = None

    def restart(self, down_seconds=0.0, mode="immediate"):
        """A crash and a recovery: `pg_ctl restart -m immediate` (no shutdown checkpoint, clients cut
        off at once), or with `down_seconds` a stop in that mode, that long down, then a start.
        `mode="fast"` stops as `pg_ctl` does by default (sessions ended with an error)."""
        if down_seconds <= 0:
            self._pg_ctl("restart", "-w", "-t", "60", "-m", mode, "-l", self.log)
            return
        self._pg_ctl("stop", "-w", "-t", "30", "-m", mode)
        time.sleep(down_seconds)
        self._pg_ctl("start", "-w", "-t", "60", "-l", self.log)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()
        return False

    # -- use ------------------------------------------------------------------------------------
    def url(self, dbname="postgres"):
        return f"postgres://{USER}@{HOST}:{self.port}/{dbname}?sslmode=disable"

    def describe(self):
        return {"host": HOST, "port": self.port, "user": USER, "directory": self.directory, "url": self.url()}

    def create_database(self, name):
        self._run([f"{BIN}/createdb", "-h", HOST, "-p", str(self.port), "-U", USER, name])
        return self.url(name)

    def psql(self, sql, dbname="postgres"):
        """Runs SQL through psql on loopback; returns its unaligned, tuples-only output."""
        return self._run([f"{BIN}/psql", "-h", HOST, "-p", str(self.port), "-U", USER, "-d", dbname,
                          "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", sql])


def _run_until_stopped(database):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the server is stopped on `kill` too
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    with PostgresServer() as pg:
        pg.create_database(database)
        print(pg.url(database), flush=True)
        print(f"(data in {pg.directory}; Ctrl-C stops the server and removes it)", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _main(arguments):
    import argparse
    parser = argparse.ArgumentParser(description="A throwaway PostgreSQL 15 server on 127.0.0.1.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a server and leave it running; prints it as one JSON line")
    start.add_argument("directory", nargs="?", help="its directory (default: a new temporary one)")
    stop = commands.add_parser("stop", help="stop the server a directory holds")
    stop.add_argument("directory")
    stop.add_argument("--immediate", action="store_true", help="no shutdown checkpoint: a crash")
    stop.add_argument("--remove", action="store_true", help="delete the directory afterwards")
    run = commands.add_parser("run", help="start a server, create a database, print its URL, run until Ctrl-C")
    run.add_argument("--database", default="relevo", help="database to create (default relevo)")
    if not arguments or arguments[0] not in ("start", "stop", "run", "-h", "--help"):
        arguments = ["run"] + arguments
    args = parser.parse_args(arguments)
    try:
        if args.command == "start":
            server = PostgresServer(os.path.abspath(args.directory) if args.directory else None).start()
            print(json.dumps(server.describe()), flush=True)
        elif args.command == "stop":
            server = PostgresServer(os.path.abspath(args.directory))
            server.halt(immediate=args.immediate)
            if args.remove:
                shutil.rmtree(server.directory, ignore_errors=True)
        else:
            _run_until_stopped(args.database)
    except RuntimeError as error:
        sys.exit(f"pg_server.py {args.command}: {error}")


if __name__ == "__main__":
    _main(sys.argv[1:])
