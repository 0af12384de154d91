import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for the tests: started once per test process by `scripts/pg_server.py`
/// (the launcher the fault-test scripts use too: PostgreSQL 15 in a temporary directory, on a
/// loopback port), stopped when the process exits. Each test gets a fresh database of its own.
///
/// `RELEVO_TEST_POSTGRES_URL` (e.g. `postgres://relevo@127.0.0.1:5432/postgres?sslmode=disable`)
/// points the tests at a server you run instead; `RELEVO_PG_BIN` at other PostgreSQL binaries.
/// Nothing is skipped when no server is found: the tests that need one fail, saying why.
enum TestPostgres {
    static let binaries = ProcessInfo.processInfo.environment["RELEVO_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    /// `<repo>/scripts/pg_server.py`, found from this file (`<repo>/Tests/RelevoTests/Support/`).
    static let launcher = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/pg_server.py").path

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

    /// A server, as `pg_server.py start` describes it on its one line of JSON.
    struct Server: Sendable, Decodable {
        let host: String
        let port: Int
        let user: String
        /// The directory of a server these tests started (nil for an external one).
        let directory: String?

        func url(database: String) -> String {
            "postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable"
        }

        /// The server named by `RELEVO_TEST_POSTGRES_URL`, or one of our own.
        static func launch() throws -> Server {
            if let external = ProcessInfo.processInfo.environment["RELEVO_TEST_POSTGRES_URL"],
                let url = URLComponents(string: external), let host = url.host
            {
                return Server(host: host, port: url.port ?? 5432, user: url.user ?? "postgres", directory: nil)
            }
            return try startOwn()
        }

        /// A new server in a temporary directory, stopped (and removed) when the test process exits.
        static func startOwn() throws -> Server {
            let server = try JSONDecoder().decode(Server.self, from: runLauncher(["start"]))
            guard let directory = server.directory else { throw ServerError(description: "pg_server.py named no directory") }
            let stopCommand = ["/usr/bin/env", "python3", launcher, "stop", "--immediate", "--remove", directory]
            cleanUpAtExit(stopCommand.map(quote).joined(separator: " "))
            return server
        }

        /// Starts again a server these tests created and stopped (the end of an outage).
        func start() throws {
            _ = try Server.runLauncher(["start", directory ?? ""])
        }

        /// Stops a server these tests created (an outage); its directory stays for ``start()``.
        func stop() throws {
            _ = try Server.runLauncher(["stop", directory ?? ""])
        }

        /// Runs one SQL command on the `postgres` database.
        func psql(_ command: String) throws {
            _ = try Server.run(
                "\(binaries)/psql",
                [
                    "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", "\(port)", "-U", user, "-d", "postgres", "-c", command,
                ])
        }

        static func quote(_ word: String) -> String {
            "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }

        /// Runs `pg_server.py` with `arguments`; what it printed.
        private static func runLauncher(_ arguments: [String]) throws -> Data {
            try run("/usr/bin/env", ["python3", launcher] + arguments)
        }

        /// Runs a command and waits for it; its standard output, or an error carrying its standard error.
        ///
        /// Foundation's `Process` closes this process's other descriptors in the child, so no child
        /// holds a test's connection open. It reports the exit, and the pipes end, only once nothing
        /// the child started holds what the child inherited: `pg_server.py` starts `pg_ctl` with
        /// nothing inherited, so the server it leaves running does not keep this waiting.
        private static func run(_ executable: String, _ arguments: [String]) throws -> Data {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let output = Pipe(), errors = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let printed = output.fileHandleForReading.readDataToEndOfFile()
            let complaint = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let command = ([executable] + arguments).joined(separator: " ")
                let message = String(decoding: complaint, as: UTF8.self)
                throw ServerError(description: "\(command) failed (\(process.terminationStatus)): \(message)")
            }
            return printed
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
