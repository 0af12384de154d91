import Foundation
import Testing

@testable import Relevo

/// The `relevo` binary end to end: real process, real socket, real SQLite file.
@Suite("Command line and live server")
struct CommandLineTests {
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func projectsAndKeysFromTheCommandLine() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = ["--database", "sqlite://\(directory.path)/r.sqlite"]

        let created = try await RelevoBinary.run(["projects", "create", "--name", "Acme", "--id", "acme"] + database)
        #expect(created.status == 0)
        let lines = created.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let json = try JSONParser.parse(String(lines[0]))
        guard case .object(let members) = json else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["projectId", "apiKey"])
        #expect(json["projectId"] == "acme")
        guard case .string(let firstKey)? = json["apiKey"] else { Issue.record("no key"); return }
        #expect(!created.stderr.contains(firstKey))

        let duplicate = try await RelevoBinary.run(["projects", "create", "--name", "Acme", "--id", "acme"] + database)
        #expect(duplicate.status != 0)
        #expect(duplicate.stdout.isEmpty)
        #expect(duplicate.stderr.contains("already exists"))

        let second = try await RelevoBinary.run(["projects", "keys", "create", "--project", "acme"] + database)
        #expect(second.status == 0)
        let secondJSON = try JSONParser.parse(second.stdout.trimmingCharacters(in: .newlines))
        guard case .string(let keyId)? = secondJSON["keyId"] else { Issue.record("no key id"); return }

        let listed = try await RelevoBinary.run(["projects", "keys", "list", "--project", "acme"] + database)
        #expect(listed.stdout.split(separator: "\n").count == 2)
        #expect(!listed.stdout.contains(firstKey))

        let revoked = try await RelevoBinary.run(["projects", "keys", "revoke", "--project", "acme", "--key-id", keyId] + database)
        #expect(revoked.status == 0)
        let byValue = try await RelevoBinary.run(
            ["projects", "keys", "revoke", "--project", "acme", "--key-from-stdin"] + database,
            stdin: firstKey + "\n")
        #expect(byValue.status == 0)
        let again = try await RelevoBinary.run(["projects", "keys", "revoke", "--project", "acme", "--key-id", keyId] + database)
        #expect(again.status != 0)
        let missing = try await RelevoBinary.run(["projects", "keys", "create", "--project", "ghost"] + database)
        #expect(missing.status != 0)
    }

    /// Delivery bounds that would stop delivery, or a per-destination bound above the overall one:
    /// refused at start with the option named, before anything is opened.
    @Test func serveRefusesDeliveryBoundsThatCannotWork() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = ["--database", "sqlite://\(directory.path)/relevo.sqlite", "--port", "0"]
        for bounds in [["--max-in-flight-per-destination", "0"], ["--max-in-flight", "8", "--max-in-flight-per-destination", "16"]] {
            let refused = try await RelevoBinary.run(["serve"] + database + bounds)
            #expect(refused.status == 64)
            #expect(refused.stderr.hasPrefix("Error: --max-in-flight-per-destination"))
        }
        let lease = try await RelevoBinary.run(["serve"] + database + ["--delivery-timeout", "30", "--delivery-lease", "30"])
        #expect(lease.status == 64)
        #expect(lease.stderr == "Error: --delivery-lease must be longer than --delivery-timeout, or a live attempt could be taken over\n")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("relevo.sqlite").path))
    }

    /// What an operator may mistype, as an option or as its environment variable, with the name the
    /// one-line refusal must give: unrefused, each would crash the server, wrap into another value
    /// or be replaced by a default without a word.
    static let refusedSettings: [(arguments: [String], environment: [String: String], named: String)] = [
        // would crash at the first or second request, or at start
        (["--rate-burst", "nan"], [:], "--rate-burst"),
        ([], ["RELEVO_RATE_BURST": "NaN"], "RELEVO_RATE_BURST"),
        (["--rate-limit", "inf"], [:], "--rate-limit"),
        (["--rate-limit", "0x10"], [:], "--rate-limit"),  // read as hexadecimal 16 by Double(_:)
        (["--retry-schedule", "9999999999999999h"], [:], "--retry-schedule"),
        (["--retention-days", "999999999999999"], [:], "--retention-days"),
        (["--delivery-lease", "9223372036854775807"], [:], "--delivery-lease"),
        (["--max-in-flight", "9223372036854775807"], [:], "--max-in-flight"),
        // would be ignored in favour of the default
        ([], ["RELEVO_DELIVERY_TIMEOUT": "30s"], "RELEVO_DELIVERY_TIMEOUT"),
        ([], ["RELEVO_PORT": "abc"], "RELEVO_PORT"),
        ([], ["RELEVO_MAX_IN_FLIGHT": "ten"], "RELEVO_MAX_IN_FLIGHT"),
        ([], ["RELEVO_LOG_LEVEL": "loud"], "RELEVO_LOG_LEVEL"),
        ([], ["RELEVO_ALLOW_INSECURE_WEBHOOKS": "maybe"], "RELEVO_ALLOW_INSECURE_WEBHOOKS"),
        // out of range: would silently become something else
        (["--port", "70000"], [:], "--port"),
        (["--port", "65536"], [:], "--port"),
        (["--rate-limit", "-5"], [:], "--rate-limit"),
        (["--delivery-timeout", "0"], [:], "--delivery-timeout"),
        (["--delivery-timeout", "-5"], [:], "--delivery-timeout"),
        (["--retention-days", "0"], [:], "--retention-days"),
        (["--retention-days", "-3"], [:], "--retention-days"),
        ([], ["RELEVO_RETENTION_DAYS": "-3"], "RELEVO_RETENTION_DAYS"),
        (["--retry-schedule", ","], [:], "--retry-schedule"),
        (["--retry-schedule", "5s,,5m"], [:], "--retry-schedule"),
    ]

    /// Each is refused at start, before the database is opened: exit code 64 and one line naming the
    /// setting (no usage text, no backtrace).
    @Test func serveRefusesSettingsItCannotHonour() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (arguments, environment, named) in Self.refusedSettings {
            let (status, errors) = try await Self.serveUntilRefused(arguments, environment: environment, directory: directory)
            let lines = errors.split(separator: "\n")
            #expect(status == 64, "\(arguments) \(environment): exit \(status)")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: \(named): "), "\(arguments) \(environment): \(errors.prefix(300))")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("relevo.sqlite").path))
    }

    /// The first key is shown once: a start that cannot listen must not spend that showing.
    @Test func aStartThatCannotListenDoesNotSpendTheFirstKey() async throws {
        let directory = try Self.temporaryDirectory()
        defer { removeTemporaryDirectory(directory) }  // after the servers' stops below
        let holder = try ServerProcess(arguments: ["--database", "sqlite://\(directory.path)/holder/relevo.sqlite"], directory: directory)
        defer { holder.stop() }
        try await holder.waitUntilListening()
        let arguments = ["--database", "sqlite://\(directory.path)/new/relevo.sqlite"]

        let busy = try ServerProcess(arguments: arguments + ["--port", String(holder.port)], directory: directory)
        defer { busy.stop() }
        let busyStatus = await busy.exitStatus(within: .seconds(20))
        #expect(busyStatus != nil && busyStatus != 0)
        #expect(busy.banner("x-api-key") == nil)

        let next = try ServerProcess(arguments: arguments, directory: directory)
        defer { next.stop() }
        try await next.waitUntilListening()
        let key = try #require(next.banner("x-api-key"))
        let projectId = try #require(next.banner("projectId"))
        #expect(try await next.request("GET", "/v1/external-support/\(projectId)", key: key).0 == 404)  // the key works
    }

    /// A supervisor or log pipe that stops reading stdout must not take the server down with it;
    /// and `--max-in-flight` alone may be set below the per-destination default, which follows it.
    @Test func serveOutlivesAClosedStdoutAndASmallInFlightBound() async throws {
        let directory = try Self.temporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let port = try freePort()
        let process = Process()
        process.executableURL = RelevoBinary.url
        process.arguments = [
            "serve", "--port", String(port), "--max-in-flight", "16",
            "--database", "sqlite://\(directory.path)/relevo.sqlite",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try output.fileHandleForReading.close()  // nobody reads: the banner and the listening line hit a broken pipe
        try process.run()
        defer {  // reaped on a thread of its own: its graceful stop must not hold a cooperative thread
            if process.isRunning { process.terminate() }
            Thread.detachNewThread { process.waitUntilExit() }
        }
        var status = 0
        for _ in 0..<200 where status != 200 {
            status =
                (try? await rawHTTPExchange(port: port, bytes: Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)))
                .map { $0.answer.hasPrefix("HTTP/1.1 200") ? 200 : 0 } ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(status == 200)
        try await Task.sleep(for: .milliseconds(200))
        #expect(process.isRunning)
    }

    /// `relevo serve` on a database in `directory`, with stderr captured; a server that starts
    /// anyway is killed after 30 s, so that a regression fails this test instead of hanging it.
    static func serveUntilRefused(_ arguments: [String], environment: [String: String], directory: URL) async throws
        -> (status: Int32, stderr: String)
    {
        try await offThread {
            let errorFile = directory.appendingPathComponent("stderr-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
            let process = Process()
            process.executableURL = RelevoBinary.url
            process.arguments = ["serve", "--database", "sqlite://\(directory.path)/relevo.sqlite"] + arguments
            // A free port unless the case is about the port: a server that starts must not collide.
            process.environment = ProcessInfo.processInfo.environment.merging(["RELEVO_PORT": "0"].merging(environment) { $1 }) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: errorFile)
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return (process.terminationStatus, (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
        }
    }

    /// Accepted spellings are accepted from the environment too: `yes` turns insecure webhooks on
    /// (an `http` address on this machine is then saved), upper-case log levels and empty variables
    /// (unset) start the server as usual, and so do values with spaces or a line end around them,
    /// numbers as well as lists.
    @Test func serveAcceptsEnvironmentValuesInAnyUsualSpelling() async throws {
        let directory = try Self.temporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = try ServerProcess(
            arguments: ["--database", "sqlite://\(directory.path)/relevo.sqlite"], directory: directory,
            environment: [
                "RELEVO_ALLOW_INSECURE_WEBHOOKS": "yes ", "RELEVO_LOG_LEVEL": "DEBUG\n",
                "RELEVO_RETRY_SCHEDULE": " 5s, 5m ", "RELEVO_MAX_IN_FLIGHT": "", "RELEVO_RATE_LIMIT": " 50\t",
                "RELEVO_RETENTION_DAYS": "  ",
            ])
        defer { server.stop() }
        try await server.waitUntilListening()
        let projectId = try #require(server.banner("projectId"))
        let key = try #require(server.banner("x-api-key"))
        let (status, body) = try await server.request(
            "POST", "/v1/external-support/\(projectId)", key: key,
            body: #"{"webhookUrl":"http://127.0.0.1:9/hook","authType":"api_key","authorization":"k-123"}"#)
        #expect(status == 200, "\(body.prefix(300))")
        await server.stopAndWait()
    }

    /// `webhook` is the panel webhook's path segment: a project with that id could never reach its
    /// integration, so the command line refuses it (as it refuses ids the API's path rule refuses).
    @Test func projectIdsThatPathsCannotReachAreRefused() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = ["--database", "sqlite://\(directory.path)/r.sqlite"]
        for id in ["webhook", "..", "a/b"] {
            let refused = try await RelevoBinary.run(["projects", "create", "--name", "X", "--id", id] + database)
            #expect(refused.status != 0, "\(id)")
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderr.hasPrefix("error: id must"), "\(id): \(refused.stderr)")
        }
    }

    @Test func serveSeedsADefaultProjectOnceAndKeepsDataAcrossRestarts() async throws {
        let directory = try Self.temporaryDirectory()
        defer { removeTemporaryDirectory(directory) }  // after the servers' stops below
        let arguments = ["--database", "sqlite://\(directory.path)/data/relevo.sqlite"]

        let first = try ServerProcess(arguments: arguments, directory: directory)
        defer { first.stop() }
        try await first.waitUntilListening()
        let projectId = try #require(first.banner("projectId"))
        let key = try #require(first.banner("x-api-key"))
        let path = "/v1/external-support/\(projectId)"

        #expect(try await first.request("GET", "/health").0 == 200)
        #expect(try await first.request("GET", path, key: key).0 == 404)
        let (status, body) = try await first.request(
            "POST", path, key: key, body: #"{"webhookUrl":"https://93.184.215.14/hook","authType":"api_key","authorization":"k-123"}"#)
        #expect(status == 200)
        let secret = try JSONParser.parse(body)["data"]?["signingSecret"]
        let before = try await first.request("GET", path, key: key).1
        let stopping = ContinuousClock.now
        await first.stopAndWait()
        // SIGTERM ends an idle server at once (the documented grace, 10 s, is for attempts in flight).
        #expect(ContinuousClock.now - stopping < .seconds(10))

        let second = try ServerProcess(arguments: arguments, directory: directory)
        defer { second.stop() }
        try await second.waitUntilListening()
        #expect(second.banner("x-api-key") == nil)  // the key is shown only on the very first start
        // Another server on the same file is refused: it would send again what this one is sending.
        let third = try ServerProcess(arguments: arguments, directory: directory)
        defer { third.stop() }
        let thirdStatus = await third.exitStatus(within: .seconds(20))
        #expect(thirdStatus != nil && thirdStatus != 0)
        #expect(third.errorOutput.contains("another relevo serve is running on"))
        #expect(try await second.request("GET", "/health").0 == 200)
        let after = try await second.request("GET", path, key: key)
        #expect(after.0 == 200)
        #expect(after.1 == before)

        // A key revoked by another process stops working on the very next request,
        // even though the running server has just answered (and cached) it.
        let revoked = try await RelevoBinary.run(
            ["projects", "keys", "revoke", "--project", projectId, "--key-from-stdin"] + arguments,
            stdin: key + "\n")
        #expect(revoked.status == 0)
        #expect(try await second.request("GET", path, key: key).0 == 401)
        await second.stopAndWait()

        // The secret is still the same one: open the same file and key file as the server did.
        var configuration = RelevoConfiguration()
        configuration.databaseURL = "sqlite://\(directory.path)/data/relevo.sqlite"
        let app = try await RelevoApp(configuration: configuration)
        guard case .string(let secretText)? = secret else { Issue.record("no secret"); return }
        #expect(try await app.integrations.signingSecrets(projectId: projectId) == [secretText])
    }
}
