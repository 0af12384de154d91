import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for the tests: started once per test process from the machine's
/// PostgreSQL 15 (`initdb` in a temporary directory, `pg_ctl` on a loopback port), stopped when the
/// process exits. Each test gets a fresh database of its own.
///
/// `RELEVO_TEST_POSTGRES_URL` (e.g. `postgres://relevo@127.0.0.1:5432/postgres?sslmode=disable`)
/// points the tests at a server you run instead. Nothing is skipped when no server is found: the
/// tests that need one fail, saying why.
enum TestPostgres {
    static let binaries = ProcessInfo.processInfo.environment["RELEVO_TEST_POSTGRES_BIN"] ?? "/usr/lib/postgresql/15/bin"

    /// The URL of a new, empty database.
    static func freshDatabase() async throws -> String {
        let server = try await shared.start()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await offThread { try server.psql("CREATE DATABASE \(name)") }
        return server.url(database: name)
    }

    private static let shared = Launcher()

    /// Starts the server once, whichever test asks first.
    private actor Launcher {
        private var server: Task<Server, any Error>?

        func start() async throws -> Server {
            if let server { return try await server.value }
            let task = Task { try await offThread { try Server.launch() } }
            server = task
            return try await task.value
        }
    }

    struct Server: Sendable {
        let host: String
        let port: Int
        let user: String
        /// The data directory of a server these tests started (nil for an external one).
        let directory: String?

        func url(database: String) -> String {
            "postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable"
        }

        /// The server named by `RELEVO_TEST_POSTGRES_URL`, or one of our own.
        static func launch() throws -> Server {
            if let external = ProcessInfo.processInfo.environment["RELEVO_TEST_POSTGRES_URL"],
               let url = URLComponents(string: external), let host = url.host {
                return Server(host: host, port: url.port ?? 5432, user: url.user ?? "postgres", directory: nil)
            }
            return try startOwn()
        }

        /// A new server in a temporary directory, stopped (and removed) when the test process exits.
        static func startOwn() throws -> Server {
            guard FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb") else {
                throw ServerError(description: "PostgreSQL 15 is not installed at \(binaries); set RELEVO_TEST_POSTGRES_BIN or RELEVO_TEST_POSTGRES_URL")
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-pg-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if asPostgres { try run("/bin/chown", ["postgres:postgres", directory]) }
            try run("\(binaries)/initdb", ["-D", directory + "/data", "-U", "relevo", "--auth=trust", "-E", "UTF8", "--no-sync"],
                    asPostgres: asPostgres)
            let server = Server(host: "127.0.0.1", port: try freePort(), user: "relevo", directory: directory)
            cleanUpAtExit(server.pgctl(["-m", "immediate", "stop"]) + "; rm -rf '\(directory)'")
            try server.start()
            return server
        }

        /// initdb refuses to run as root: the server then runs as the `postgres` system user.
        static var asPostgres: Bool { geteuid() == 0 }

        /// Starts (again) a server these tests created.
        func start() throws {
            try Server.run("/bin/sh", ["-c", pgctl([
                "-l", "\(directory ?? "")/server.log", "-w", "-t", "60", "start",
                "-o", "-p \(port) -k \(directory ?? "") -c listen_addresses=127.0.0.1 -c max_connections=300",
            ])])
        }

        /// Stops a server these tests created (an outage).
        func stop() throws {
            try Server.run("/bin/sh", ["-c", pgctl(["-m", "fast", "-w", "stop"])])
        }

        /// A `pg_ctl` command line for this server's data directory, as the user the server runs as.
        private func pgctl(_ arguments: [String]) -> String {
            let words = (Server.asPostgres ? ["runuser", "-u", "postgres", "--"] : [])
                + ["\(binaries)/pg_ctl", "-D", "\(directory ?? "")/data"] + arguments
            return words.map(Server.quote).joined(separator: " ")
        }

        static func quote(_ word: String) -> String {
            "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }

        /// Runs one SQL command on the `postgres` database.
        func psql(_ command: String) throws {
            try Server.run("\(binaries)/psql", [
                "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", "\(port)", "-U", user, "-d", "postgres", "-c", command,
            ])
        }

        /// Runs a command and waits for it, its output dropped and its errors kept for the failure.
        ///
        /// The child is spawned with every descriptor of this process above stderr closed
        /// (`posix_spawn_file_actions_addclosefrom_np`). NIO opens its sockets without close-on-exec,
        /// so a child started by `system()` would hold the tests' connections open for as long as it
        /// runs: a server closing a connection would not really close it (no FIN), and a client
        /// reusing it would wait for an answer until its deadline. `initdb` and `pg_ctl -w start` run
        /// for seconds, and `psql` runs for every new database. (Foundation's `Process` is not used: it
        /// waits until no descendant holds its end of a socket, and the server `pg_ctl` starts would
        /// keep that.)
        private static func run(_ executable: String, _ arguments: [String], asPostgres: Bool = false) throws {
            let errors = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-pg-\(UUID().uuidString).err").path
            defer { try? FileManager.default.removeItem(atPath: errors) }
            let words = (asPostgres ? ["runuser", "-u", "postgres", "--", executable] : [executable]) + arguments
            let status = try spawnAndWait(words, errors: errors)
            guard status == 0 else {
                let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                throw ServerError(description: "\(executable) failed (\(status)): \(message)")
            }
        }

        /// `words[0]` found on the `PATH`, in `/tmp`, stdin and stdout on `/dev/null`, stderr to
        /// `errors`, nothing else inherited; its exit status (or 128 + the signal that ended it).
        private static func spawnAndWait(_ words: [String], errors: String) throws -> Int32 {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            // glibc has both (2.29 and 2.34); Swift's Glibc module does not declare them.
            guard let chdir = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np"),
                  let closeFrom = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { throw ServerError(description: "this C library cannot close a child's inherited descriptors (glibc 2.34 or later can)") }
            typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
            typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(chdir, to: AddChdir.self)(&actions, "/tmp")
            _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
            let argv = words.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            let spawned = posix_spawnp(&pid, words[0], &actions, nil, argv, environ)
            guard spawned == 0 else {
                throw ServerError(description: "\(words[0]) could not start: \(String(cString: strerror(spawned)))")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }
}

/// Shell commands the exit handler runs (stopping and removing the servers these tests started).
private let exitCommands = Mutex<[String]>([])

private func cleanUpAtExit(_ command: String) {
    let first = exitCommands.withLock { commands in
        commands.append(command)
        return commands.count == 1
    }
    if first {
        atexit {
            for command in exitCommands.withLock({ $0 }) { _ = system("(" + command + ") > /dev/null 2>&1") }
        }
    }
}
