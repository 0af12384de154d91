#!/usr/bin/env python3
"""A throwaway PostgreSQL 15 server for tests.

    from pg_server import PostgresServer
    with PostgresServer() as pg:
        pg.create_database("relevo")
        url = pg.url("relevo")  # postgres://relevo@127.0.0.1:PORT/relevo?sslmode=disable

A fresh temporary directory holds the cluster (`initdb --auth=trust -U relevo -E UTF8`), its log and
its unix socket; the server listens only on 127.0.0.1 at a free port, with max_connections 200. On
exit (also when the body raises) it is stopped with `pg_ctl stop -m fast` and the directory removed.
initdb refuses to run as root: then the directory belongs to the `postgres` system user and
initdb/pg_ctl run through `runuser -u postgres --`.

    python3 scripts/pg_server.py [--database relevo]   # starts one, prints its URL, waits for Ctrl-C
"""
import os, pwd, shutil, signal, socket, subprocess, sys, tempfile, time

BIN = os.environ.get("RELEVO_PG_BIN", "/usr/lib/postgresql/15/bin")
USER = "relevo"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, max_connections=200, settings=None, quiet=True):
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.quiet = quiet
        self.directory = self.data = self.port = None
        self._started = False

    # -- helpers ---------------------------------------------------------------------------------
    def _as_server_user(self, command):
        """initdb and pg_ctl refuse root: run them as `postgres` when we are root."""
        return ["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command

    def _run(self, command, timeout=120, **kwargs):
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=timeout, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                               + self._log_tail())
        return result.stdout

    def _log_tail(self, lines=20):
        try:
            with open(self.log) as log:
                return "\n--- server log (tail) ---\n" + "".join(log.readlines()[-lines:])
        except Exception:
            return ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self):
        root = os.geteuid() == 0
        # As root the directory must be reachable by `postgres`: /tmp is, a root-only $TMPDIR may not be.
        self.directory = tempfile.mkdtemp(prefix="relevo-pg-", dir="/tmp" if root else None)
        try:
            if root:
                account = pwd.getpwnam("postgres")
                os.chown(self.directory, account.pw_uid, account.pw_gid)
            self.data = os.path.join(self.directory, "data")
            self.log = os.path.join(self.directory, "server.log")
            self._run(self._as_server_user([f"{BIN}/initdb", "-D", self.data, "--auth=trust", "-U", USER,
                                            "-E", "UTF8", "--locale=C", "--no-sync"]))
            for attempt in range(5):  # the free port may be taken between our probe and the bind
                self.port = free_port()
                settings = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                            "unix_socket_directories": f"'{self.directory}'",
                            "max_connections": str(self.max_connections), **self.settings}
                # postgresql.auto.conf is read last; appending keeps the file's owner (postgres).
                with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as conf:
                    conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))
                result = subprocess.run(self._as_server_user([f"{BIN}/pg_ctl", "start", "-w", "-t", "60", "-D", self.data,
                                                              "-l", self.log]),
                                        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90,
                                        start_new_session=True)  # Ctrl-C in the terminal must not reach the postmaster
                if result.returncode == 0:
                    self._started = True
                    return self
                if "already in use" not in self._log_tail(40) or attempt == 4:
                    raise RuntimeError(f"pg_ctl start failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                                       + self._log_tail())
            return self
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self._started:
            self._started = False
            def pg_ctl_stop(mode):
                command = self._as_server_user([f"{BIN}/pg_ctl", "stop", "-w", "-t", "30", "-m", mode, "-D", self.data])
                try:
                    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60).returncode
                except subprocess.TimeoutExpired:
                    return -1
            if pg_ctl_stop("fast") != 0:  # e.g. stuck: do not leave a postmaster behind
                pg_ctl_stop("immediate")
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def restart(self, down_seconds=0.0):
        """A crash and a recovery: `pg_ctl restart -m immediate` (no shutdown checkpoint, clients cut
        off at once), or with `down_seconds` a stop in that mode, that long down, then a start."""
        ctl = lambda *words: self._run(self._as_server_user([f"{BIN}/pg_ctl", *words, "-D", self.data]), timeout=120,
                                       start_new_session=True)
        if down_seconds <= 0:
            ctl("restart", "-w", "-t", "60", "-m", "immediate", "-l", self.log)
            return
        ctl("stop", "-w", "-t", "30", "-m", "immediate")
        time.sleep(down_seconds)
        ctl("start", "-w", "-t", "60", "-l", self.log)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()
        return False

    # -- use ------------------------------------------------------------------------------------
    def url(self, dbname="postgres"):
        return f"postgres://{USER}@127.0.0.1:{self.port}/{dbname}?sslmode=disable"

    def create_database(self, name):
        self._run([f"{BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name])
        return self.url(name)

    def psql(self, sql, dbname="postgres"):
        """Runs SQL through psql on loopback; returns its unaligned, tuples-only output."""
        return self._run([f"{BIN}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", dbname,
                          "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", sql])


def _main():
    import argparse
    parser = argparse.ArgumentParser(description="Start a throwaway PostgreSQL 15 server until Ctrl-C.")
    parser.add_argument("--database", default="relevo", help="database to create (default relevo)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the server is stopped on `kill` too
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    with PostgresServer() as pg:
        pg.create_database(args.database)
        print(pg.url(args.database), flush=True)
        print(f"(data in {pg.directory}; Ctrl-C stops the server and removes it)", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
