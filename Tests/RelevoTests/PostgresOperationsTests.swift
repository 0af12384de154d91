import Foundation
import Logging
import PostgresNIO
import Synchronization
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

    /// Each instance keeps keys and integrations in memory; a change made anywhere (through another
    /// instance, the CLI or the operator's own SQL) reaches every instance when the database announces
    /// it, well before the cache's lifetime, and the instance that made it answers with it at once.
    @Test func keyAndIntegrationChangesReachEveryInstance() async throws {
        let instances = try await TwoInstances.start()
        defer { instances.stop() }
        let (url, first, second) = (instances.url, instances.first, instances.second)
        let (projectId, key) = (instances.projectId, instances.key)
        let path = "/v1/external-support/\(projectId)"
        /// Whether `server` answers `path` with `status` and a body containing `text` within two
        /// seconds (a fifth of ``PostgresReadCache/lifetime``).
        func soon(_ server: ServerProcess, _ status: Int, _ text: String = "", with another: String? = nil) async throws -> Bool {
            var last = (0, "")
            for _ in 0..<100 {
                last = try await server.request("GET", path, key: another ?? key)
                if last.0 == status && (text.isEmpty || last.1.contains(text)) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("still \(last.0) \(last.1.prefix(200))")
            return false
        }

        for server in [first, second] { #expect(try await server.request("GET", path, key: key).0 == 404) }
        let body = #"{"webhookUrl":"http://127.0.0.1:9/one","authType":"api_key","authorization":"k-123"}"#
        #expect(try await first.request("POST", path, key: key, body: body).0 == 200)
        #expect(try await first.request("GET", path, key: key).1.contains("127.0.0.1:9/one"))
        #expect(try await soon(second, 200, "127.0.0.1:9/one"))
        #expect(try await second.request("PATCH", path, key: key, body: #"{"webhookUrl":"http://127.0.0.1:9/two"}"#).0 == 200)
        #expect(try await second.request("GET", path, key: key).1.contains("127.0.0.1:9/two"))
        #expect(try await soon(first, 200, "127.0.0.1:9/two"))

        let created = try await RelevoBinary.run(
            ["projects", "keys", "create", "--project", projectId, "--database", url], environment: Self.masterKey)
        #expect(created.status == 0, "\(created.stderr)")
        let issued = try JSONParser.parse(created.stdout.trimmingCharacters(in: .newlines))
        guard case .string(let otherKey)? = issued["apiKey"], case .string(let otherId)? = issued["keyId"] else {
            Issue.record("no key in \(created.stdout)")
            return
        }
        for server in [first, second] { #expect(try await server.request("GET", path, key: otherKey).0 == 200) }
        let revoked = try await RelevoBinary.run(
            ["projects", "keys", "revoke", "--project", projectId, "--key-from-stdin", "--database", url], stdin: key + "\n",
            environment: Self.masterKey)
        #expect(revoked.status == 0)
        for server in [first, second] { #expect(try await soon(server, 401)) }
        let operatorSQL = try await PostgresStore.open(url: url, logger: Logger(label: "test"))
        _ = try await operatorSQL.rows("UPDATE api_keys SET revoked_at = 1 WHERE id = \(otherId)")
        try await operatorSQL.close()
        for server in [first, second] { #expect(try await soon(server, 401, with: otherKey)) }
    }

    /// Channel messages' contexts (bot, user, room, active conversation) are kept in memory on
    /// PostgreSQL: a conversation closed or started through one instance reaches the very next message
    /// on the other, and a user renamed through one is named so in the other's events within two seconds.
    @Test func conversationAndUserChangesReachTheNextMessageOnEveryInstance() async throws {
        let instances = try await TwoInstances.start()
        defer { instances.stop() }
        let (first, second, projectId, key) = (instances.first, instances.second, instances.projectId, instances.key)
        let base = "/v1/external-support/\(projectId)", people = "/v1/projects/\(projectId)"
        // A panel that is down: events wait for it, and the answers say where each message went.
        #expect(try await first.request("POST", base, key: key, body: #"{"webhookUrl":"http://127.0.0.1:9/panel"}"#).0 == 200)
        #expect(try await first.request("POST", people + "/bots", key: key, body: #"{"id":"bot-1","name":"Bot"}"#).0 < 300)
        #expect(try await first.request("PUT", people + "/users/user-1", key: key, body: #"{"names":"Ana"}"#).0 < 300)
        var sent = 0
        func message(_ server: ServerProcess) async throws -> String {
            sent += 1
            let body = #"{"botId":"bot-1","userId":"user-1","value":{"id":"m-\#(sent)","type":"text","content":{"body":"hola"}}}"#
            let (status, answer) = try await server.request("POST", people + "/channel/messages", key: key, body: body)
            #expect(status == 200, "\(answer)")
            return answer
        }
        func start() async throws -> String {
            let (status, answer) = try await first.request(
                "POST", base + "/conversations/start", key: key, body: #"{"botId":"bot-1","userId":"user-1"}"#)
            #expect(status == 200, "\(answer)")
            return try #require(try JSONParser.parse(answer)["data"]?["_id"]?.stringValue)
        }

        let one = try await start()
        for _ in 0..<3 { #expect(try await message(second).contains(#""conversationId":"\#(one)""#)) }
        #expect(try await first.request("POST", base + "/conversations/close", key: key, body: #"{"botId":"bot-1","userId":"user-1"}"#).0 == 200)
        for _ in 0..<3 { #expect(try await message(second).contains(#""routedTo":"bot""#)) }
        let two = try await start()
        for _ in 0..<3 { #expect(try await message(second).contains(#""conversationId":"\#(two)""#)) }

        #expect(try await first.request("PUT", people + "/users/user-1", key: key, body: #"{"names":"Ana María"}"#).0 < 300)
        var named = ""
        let deadline = ContinuousClock.now + .seconds(2)  // a fifth of PostgresReadCache.lifetime
        while ContinuousClock.now < deadline {
            _ = try await message(second)
            let newest = try JSONParser.parse(try await second.request("GET", base + "/events?limit=1", key: key).1)
            guard case .array(let events)? = newest["data"]?["events"], let id = events.first?["id"]?.stringValue else {
                Issue.record("no event in \(newest)")
                break
            }
            let event = try JSONParser.parse(try await second.request("GET", base + "/events/\(id)", key: key).1)
            named = event["data"]?["body"]?["contact"]?["name"]?.stringValue ?? ""
            if named == "Ana María" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(named == "Ana María")
    }

    /// A server that ends a connection while a long result is half read (an immediate shutdown, an
    /// administrator's `pg_terminate_backend`) fails that read as the store being unavailable, and
    /// the process serves on. Without ``ReadCompletionGuard`` postgres-nio stopped the process here.
    @Test func aResultCutShortByTheServerFailsOnlyItsRead() async throws {
        let store = try await PostgresStore.open(url: try await TestPostgres.freshDatabase(), logger: Logger(label: "test"))
        let reading = AsyncStream.makeStream(of: Int32.self)
        let ended = AsyncStream.makeStream(of: Void.self)
        let read = Task {
            try await store.withConnection { connection in
                let pid = try await connection.rows("SELECT pg_backend_pid()")[0][0].decode(Int32.self)
                var rows = try await connection.query(
                    "SELECT repeat('x', 1000) FROM generate_series(1, 100000)", logger: PostgresStore.quiet
                ).makeAsyncIterator()
                var count = 0
                // A reader that stops asking for rows until the server has ended its connection.
                while try await rows.next() != nil {
                    count += 1
                    if count == 1 {
                        reading.continuation.yield(pid)
                        for await _ in ended.stream { break }
                    }
                }
                return count
            }
        }
        var iterator = reading.stream.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        let cut = ContinuousClock.now
        #expect(try await store.rows("SELECT pg_terminate_backend(\(pid))").count == 1)
        while try await !store.rows("SELECT 1 FROM pg_stat_activity WHERE pid = \(pid)").isEmpty {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))  // for the close to reach the reader's connection
        ended.continuation.yield()
        await #expect(throws: StoreError.unavailable) { try await read.value }
        #expect(ContinuousClock.now - cut < .seconds(5))  // answered by the close, not by the 20-s work deadline
        // The store serves on (the pool may first hand out the closed connection once more: 503 too).
        var served = false
        for _ in 0..<20 where !served {
            served = (try? await store.ping()) != nil
            if !served { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(served)
        try await store.close()
    }
}

/// Two `relevo serve` processes on one new PostgreSQL database; the first, started first, seeded its
/// project and printed its key.
private struct TwoInstances {
    let url: String
    let directory: URL
    let first: ServerProcess
    let second: ServerProcess
    let projectId: String
    let key: String

    static func start() async throws -> TwoInstances {
        let url = try await TestPostgres.freshDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-instances-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let arguments = ["--database", url, "--allow-insecure-webhooks"]
        var started: [ServerProcess] = []
        do {
            for _ in 0..<2 {
                started.append(try ServerProcess(arguments: arguments, directory: directory, environment: PostgresOperationsTests.masterKey))
                try await started[started.count - 1].waitUntilListening()
            }
            return TwoInstances(
                url: url, directory: directory, first: started[0], second: started[1],
                projectId: try #require(started[0].banner("projectId")), key: try #require(started[0].banner("x-api-key")))
        } catch {
            for server in started { server.stop() }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    func stop() {
        first.stop()
        second.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
