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
        let byValue = try await RelevoBinary.run(["projects", "keys", "revoke", "--project", "acme", "--key-from-stdin"] + database,
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
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("--max-in-flight-per-destination must be at least 1 and at most --max-in-flight"))
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
        let revoked = try await RelevoBinary.run(["projects", "keys", "revoke", "--project", projectId, "--key-from-stdin"] + arguments,
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
