import Foundation
import Testing

@testable import Relevo

/// What an operator of the PostgreSQL backend sees: start-up refusals that say what to fix, and an
/// outage that turns into errors (not hangs) and heals by itself.
@Suite("PostgreSQL operations")
struct PostgresOperationsTests {
    static let masterKey = ["RELEVO_MASTER_KEY": String(repeating: "cd", count: 32)]

    @Test func startRefusalsSayWhatToFix() async throws {
        let url = try await TestPostgres.freshDatabase()
        let noKey = try await RelevoBinary.run(["serve", "--port", "0", "--database", url], environment: ["RELEVO_MASTER_KEY": ""])
        #expect(noKey.status != 0)
        #expect(noKey.stderr.contains("RELEVO_MASTER_KEY"))
        let noUser = try await RelevoBinary.run(
            ["serve", "--port", "0", "--database", "postgres://127.0.0.1/relevo"],
            environment: Self.masterKey)
        #expect(noUser.status != 0)
        #expect(noUser.stderr.contains("names no user"))
        let badMode = try await RelevoBinary.run(
            ["serve", "--port", "0", "--database", url.replacingOccurrences(of: "disable", with: "sometimes")],
            environment: Self.masterKey)
        #expect(badMode.status != 0)
        #expect(badMode.stderr.contains("sslmode"))
        let shortLease = try await RelevoBinary.run(
            ["serve", "--port", "0", "--database", url, "--delivery-lease", "10"],
            environment: Self.masterKey)
        #expect(shortLease.status != 0)
        #expect(shortLease.stderr.contains("--delivery-lease must be longer"))
    }

    @Test func anOutageAnswersErrorsThenHeals() async throws {
        let database = try await offThread { () throws -> TestPostgres.Server in
            let server = try TestPostgres.Server.startOwn()
            try server.psql("CREATE DATABASE relevo")
            return server
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let relevo = try ServerProcess(
            arguments: ["--database", database.url(database: "relevo")], directory: directory,
            environment: Self.masterKey)
        defer { relevo.stop() }
        try await relevo.waitUntilListening()
        let projectId = try #require(relevo.banner("projectId")), key = try #require(relevo.banner("x-api-key"))
        #expect(try await relevo.request("GET", "/health").0 == 200)

        try await offThread { try database.stop() }
        let (healthStatus, healthBody) = try await relevo.request("GET", "/health")
        #expect(healthStatus == 503)
        #expect(healthBody.contains("\"store\":\"down\""))
        let (status, body) = try await relevo.request("GET", "/v1/external-support/\(projectId)", key: key)
        #expect(status == 503)
        #expect(body.contains("\"SERVICE_UNAVAILABLE\""))
        #expect(!body.contains("PSQL") && !body.contains("Unavailable"))  // internals stay in the log
        // The in-memory counters are still served, with the store marked down.
        let (metricsStatus, metrics) = try await relevo.request("GET", "/metrics")
        #expect(metricsStatus == 200)
        #expect(metrics.contains("relevo_store_up 0"))
        #expect(metrics.contains(#"relevo_events_queued_total{destination="panel"}"#))

        try await offThread { try database.start() }
        var healed = false
        for _ in 0..<100 where !healed {
            healed = try await relevo.request("GET", "/health").0 == 200
            if !healed { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(healed)
        #expect(try await relevo.request("GET", "/metrics").1.contains("relevo_store_up 1"))
        #expect(try await relevo.request("GET", "/v1/external-support/\(projectId)", key: key).0 == 404)  // no integration yet
    }
}
