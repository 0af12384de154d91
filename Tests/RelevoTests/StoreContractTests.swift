import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@testable import Relevo

/// Store behaviour, written once and run against every backend: a SQLite file and a real PostgreSQL
/// server (``TestPostgres``), each test on a fresh database.
@Suite("Store contract")
struct StoreContractTests {
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres

        /// The backends the parameterized tests run on: both, or those `RELEVO_TEST_BACKENDS` lists
        /// (comma-separated), so that `scripts/test.sh fast` runs the SQLite cases without PostgreSQL.
        static var allCases: [Backend] {
            guard let names = ProcessInfo.processInfo.environment["RELEVO_TEST_BACKENDS"] else { return [.sqlite, .postgres] }
            return names.split(separator: ",").map { name in
                guard let backend = Backend(rawValue: String(name)) else { fatalError("RELEVO_TEST_BACKENDS: no backend \(name)") }
                return backend
            }
        }
    }

    /// Runs `body` on a new empty store (and the directory its file is in), closed afterwards.
    static func withStore(_ backend: Backend, _ body: (any RelevoStore, URL) async throws -> Void) async throws {
        try await withStores(backend, instances: 1) { stores, directory in try await body(stores[0], directory) }
    }

    /// Runs `body` on `instances` stores on one new database, standing for as many processes (or, on
    /// SQLite, a server and the CLI); they are closed, and the directory removed, whether `body`
    /// returns or throws. A PostgreSQL store left open keeps its connections, and its LISTEN loop
    /// retrying (a warning a second), until the test process ends and takes the server with it.
    static func withStores(_ backend: Backend, instances: Int, _ body: ([any RelevoStore], URL) async throws -> Void) async throws {
        let (stores, directory) = try await open(backend, instances: instances)
        defer { removeTemporaryDirectory(directory) }  // after the stores' close below
        try await closing(stores) { try await body(stores, directory) }
    }

    /// Runs `body`, then closes `stores` whether it returned or threw (a `defer` cannot await the
    /// close); `body`'s error comes first, then the first close's.
    static func closing(_ stores: [any RelevoStore], after body: () async throws -> Void) async throws {
        var failure: (any Error)?
        do { try await body() } catch { failure = error }
        for store in stores {
            do { try await store.close() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// `instances` stores on one new database, and the directory to remove; none is left open when one fails to open.
    private static func open(_ backend: Backend, instances: Int) async throws -> ([any RelevoStore], URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-store-\(UUID().uuidString)")
        switch backend {
        case .sqlite:
            let path = directory.appendingPathComponent("s.sqlite").path
            return (try (0..<instances).map { _ in try SQLiteStore(path: path) }, directory)
        case .postgres:
            let url = try await TestPostgres.freshDatabase()
            var stores: [any RelevoStore] = []
            do {
                for _ in 0..<instances { stores.append(try await PostgresStore.open(url: url, logger: Logger(label: "test"))) }
            } catch {
                for store in stores { try? await store.close() }
                throw error
            }
            return (stores, directory)
        }
    }

    static func integration(_ projectId: String, id: String = "int1") -> IntegrationRecord {
        IntegrationRecord(
            id: id, projectId: projectId, webhookUrl: "https://93.184.215.14/h", authType: .bearer,
            authorization: SealedSecret(storedForm: "v1.cred"), signingSecret: SealedSecret(storedForm: "v1.sig"),
            createdAt: Timestamp(millisecondsSince1970: 1_000), updatedAt: Timestamp(millisecondsSince1970: 1_000))
    }

    static func key(_ projectId: String, _ id: String) -> APIKeyRecord {
        APIKeyRecord(id: id, projectId: projectId, hash: "hash-\(id)", createdAt: Timestamp(millisecondsSince1970: 5))
    }

    @Test(arguments: Backend.allCases)
    func projectsAndKeys(backend: Backend) async throws {
        try await Self.withStore(backend) { store, _ in
            #expect(try await store.projectCount() == 0)
            try await store.createProject(Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key("p1", "k1"))
            await #expect(throws: StoreError.conflict) {
                try await store.createProject(
                    Project(id: "p1", name: "dup", createdAt: .init(millisecondsSince1970: 2)), firstKey: Self.key("p1", "k9"))
            }
            #expect(try await store.projectCount() == 1)
            #expect(try await store.projectIdForKey(hash: "hash-k1") == "p1")
            await #expect(throws: StoreError.notFound) { try await store.addKey(Self.key("nope", "k2")) }
            try await store.addKey(Self.key("p1", "k2"))
            #expect(try await store.keys(projectId: "p1").map(\.id) == ["k1", "k2"])
            #expect(try await store.revokeKey(projectId: "p1", keyId: "k2", hash: nil, at: .init(millisecondsSince1970: 9)))
            #expect(try await store.revokeKey(projectId: "p1", keyId: "k2", hash: nil, at: .init(millisecondsSince1970: 9)) == false)
            #expect(try await store.revokeKey(projectId: "other", keyId: "k1", hash: nil, at: .init(millisecondsSince1970: 9)) == false)
            #expect(try await store.projectIdForKey(hash: "hash-k2") == nil)
            #expect(try await store.keys(projectId: "p1").last?.revokedAt == Timestamp(millisecondsSince1970: 9))
        }
    }

    @Test(arguments: Backend.allCases)
    func integrations(backend: Backend) async throws {
        try await Self.withStore(backend) { store, _ in
            try await store.createProject(Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key("p1", "k1"))
            #expect(try await store.integration(projectId: "p1") == nil)
            try await store.insertIntegration(Self.integration("p1"))
            await #expect(throws: StoreError.conflict) { try await store.insertIntegration(Self.integration("p1", id: "int2")) }
            #expect(try await store.integration(projectId: "p1") == Self.integration("p1"))

            let changed = try await store.modifyIntegration(projectId: "p1") { record in
                record.webhookUrl = "https://93.184.215.14/new"
                record.authorization = nil
                record.previousSigningSecret = SealedSecret(storedForm: "v1.old")
                record.previousSecretExpiresAt = Timestamp(millisecondsSince1970: 77)
            }
            #expect(changed?.webhookUrl == "https://93.184.215.14/new")
            #expect(try await store.integration(projectId: "p1") == changed)
            #expect(try await store.modifyIntegration(projectId: "none") { _ in } == nil)

            struct Refusal: Error {}
            await #expect(throws: Refusal.self) {
                _ = try await store.modifyIntegration(projectId: "p1") { record in
                    record.webhookUrl = "https://93.184.215.14/half-written"
                    throw Refusal()
                }
            }
            #expect(try await store.integration(projectId: "p1")?.webhookUrl == "https://93.184.215.14/new")

            #expect(try await store.deleteIntegration(projectId: "p1", at: .init(millisecondsSince1970: 50)))
            #expect(try await store.deleteIntegration(projectId: "p1", at: .init(millisecondsSince1970: 50)) == false)
            #expect(try await store.integration(projectId: "p1") == nil)
            try await store.ping()
        }
    }

    /// Instances starting together on an empty database seed one default project between them.
    @Test(arguments: Backend.allCases)
    func onlyOneFirstProjectIsSeeded(backend: Backend) async throws {
        try await Self.withStores(backend, instances: 2) { stores, _ in
            let seeded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await stores[index % 2].createFirstProject(
                            Project(id: "p\(index)", name: "default", createdAt: .init(millisecondsSince1970: 1)),
                            firstKey: Self.key("p\(index)", "k\(index)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(seeded.filter { $0 }.count == 1)
            #expect(try await stores[1].projectCount() == 1)
        }
    }

    /// A project's bots come back oldest first, another project's never, the latest of all as `latestBot`.
    @Test(arguments: Backend.allCases)
    func botsOfAProjectOldestFirst(backend: Backend) async throws {
        try await Self.withStore(backend) { store, _ in
            for project in ["p1", "p2"] {
                try await store.createProject(
                    Project(id: project, name: project, createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key(project, "k-\(project)"))
            }
            #expect(try await store.bots(projectId: "p1").isEmpty)
            func bot(_ project: String, _ id: String, at millis: Int64) -> Bot {
                Bot(
                    projectId: project, id: id, name: "Bot \(id)", channelWebhookUrl: nil, channelSecret: SealedSecret(storedForm: "v1.\(id)"),
                    createdAt: .init(millisecondsSince1970: millis), updatedAt: .init(millisecondsSince1970: millis))
            }
            for (project, id, millis) in [("p1", "zeta", 10), ("p1", "alpha", 30), ("p2", "other", 40), ("p1", "beta", 20)] {
                try await store.insertBot(bot(project, id, at: Int64(millis)))
            }
            #expect(try await store.bots(projectId: "p1") == [bot("p1", "zeta", at: 10), bot("p1", "beta", at: 20), bot("p1", "alpha", at: 30)])
            #expect(try await store.bots(projectId: "p2").map(\.id) == ["other"])
            #expect(try await store.latestBot()?.id == "other")
        }
    }

    /// A project's conversations come back newest first, page after page, filtered by state, bot and
    /// user alone or together, with their user and bot; another project's never.
    @Test(arguments: Backend.allCases)
    func conversationsOfAProjectNewestFirst(backend: Backend) async throws {
        try await Self.withStore(backend) { store, _ in
            let at = Timestamp(millisecondsSince1970: 5)
            for project in ["p1", "p2"] {
                try await store.createProject(Project(id: project, name: project, createdAt: at), firstKey: Self.key(project, "k-\(project)"))
            }
            for bot in ["b1", "b2"] {
                try await store.insertBot(
                    Bot(
                        projectId: "p1", id: bot, name: "Bot \(bot)", channelWebhookUrl: nil, channelSecret: SealedSecret(storedForm: "v1.x"),
                        createdAt: at, updatedAt: at))
            }
            _ = try await store.upsertUser(EndUser(projectId: "p1", id: "u0", names: "Ana <b>", referenceId: "ref-0", createdAt: at, updatedAt: at))
            // c0…c8 in p1 (bot b1 for even numbers, user u0…u2 in turn, c2 and c5 closed), one in p2.
            for index in 0..<9 {
                let conversation = Conversation(
                    projectId: "p1", id: "c\(index)", roomId: "r\(index)", botId: index % 2 == 0 ? "b1" : "b2", userId: "u\(index % 3)",
                    state: .active, startAt: Timestamp(millisecondsSince1970: Int64(100 + index)), assignment: nil,
                    metadata: .members(["n": .number(Double(index))]))
                try await store.startConversation(conversation, messages: [], events: [])
            }
            try await store.startConversation(
                Conversation(
                    projectId: "p2", id: "other", roomId: "r", botId: "b1", userId: "u0", state: .active, startAt: at, assignment: nil, metadata: nil),
                messages: [], events: [])
            for id in ["c2", "c5"] {
                _ = try await store.closeConversation(
                    projectId: "p1", conversationId: id, at: at, reason: "closed_by_operator", messages: [], events: [])
            }
            func ids(_ filter: ConversationFilter, pageSize: Int = 50) async throws -> [String] {
                var ids: [String] = [], before: Int64?
                repeat {
                    let page = try await store.conversations(projectId: "p1", filter, limit: pageSize, before: before)
                    ids += page.map(\.view.conversation.id)
                    #expect(page.map(\.sequence) == page.map(\.sequence).sorted(by: >))
                    before = page.count == pageSize ? page.last?.sequence : nil
                } while before != nil
                return ids
            }
            let all = (0..<9).reversed().map { "c\($0)" }
            #expect(try await ids(ConversationFilter()) == all)
            #expect(try await ids(ConversationFilter(), pageSize: 2) == all)
            #expect(try await ids(ConversationFilter(state: .closed)) == ["c5", "c2"])
            #expect(try await ids(ConversationFilter(state: .active), pageSize: 3) == all.filter { $0 != "c5" && $0 != "c2" })
            #expect(try await ids(ConversationFilter(botId: "b2")) == ["c7", "c5", "c3", "c1"])
            #expect(try await ids(ConversationFilter(userId: "u0")) == ["c6", "c3", "c0"])
            #expect(try await ids(ConversationFilter(state: .active, botId: "b1", userId: "u0")) == ["c6", "c0"])
            #expect(try await ids(ConversationFilter(botId: "nobody")).isEmpty)

            let newest = try #require(try await store.conversations(projectId: "p1", ConversationFilter(userId: "u0"), limit: 1, before: nil).first)
            #expect(newest.view.conversation.metadata == .members(["n": .number(6)]))
            #expect(newest.view.user?.names == "Ana <b>" && newest.view.user?.referenceId == "ref-0")
            #expect(newest.view.bot?.name == "Bot b1")
            let unknownUser = try #require(
                try await store.conversations(projectId: "p1", ConversationFilter(userId: "u1"), limit: 1, before: nil).first)
            #expect(unknownUser.view.user == nil && unknownUser.view.bot?.id == "b2")
            #expect(
                try await store.conversations(projectId: "p2", ConversationFilter(), limit: 50, before: nil).map(\.view.conversation.id) == ["other"])
        }
    }

    /// Many concurrent writes, some of them conflicting: each conflict fails alone, every other write is kept.
    @Test(arguments: Backend.allCases)
    func concurrentWritesFailOnlyTheConflictingOnes(backend: Backend) async throws {
        try await Self.withStore(backend) { store, _ in
            try await store.createProject(Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key("p1", "k1"))
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<120 {
                    group.addTask {
                        let bot = Bot(
                            projectId: "p1", id: "bot-\(index % 40)", name: "n\(index)", channelWebhookUrl: nil,
                            channelSecret: SealedSecret(storedForm: "v1.x"), createdAt: .init(millisecondsSince1970: 1),
                            updatedAt: .init(millisecondsSince1970: 1))
                        do {
                            try await store.insertBot(bot)
                            return (index % 40, true)
                        } catch {
                            #expect(error as? StoreError == .conflict)
                            return (index % 40, false)
                        }
                    }
                }
                var results: [(Int, Bool)] = []
                for await result in group { results.append(result) }
                return results
            }
            for id in 0..<40 {
                #expect(outcomes.filter { $0.0 == id && $0.1 }.count == 1, "bot-\(id)")
                #expect(try await store.bot(projectId: "p1", id: "bot-\(id)") != nil)
            }
        }
    }

    /// Two stores on one file stand for two processes: a read cached by one must not survive a
    /// commit by the other.
    @Test func sqliteReadsSeeCommitsOfAnotherConnectionAtOnce() async throws {
        try await Self.withStores(.sqlite, instances: 2) { stores, _ in
            let (first, second) = (stores[0], stores[1])
            try await first.createProject(Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key("p1", "k1"))
            try await first.insertIntegration(Self.integration("p1"))
            for _ in 0..<3 {
                #expect(try await first.projectIdForKey(hash: "hash-k1") == "p1")
                #expect(try await first.integration(projectId: "p1")?.webhookUrl == "https://93.184.215.14/h")
            }
            #expect(try await second.revokeKey(projectId: "p1", keyId: "k1", hash: nil, at: .init(millisecondsSince1970: 3)))
            _ = try await second.modifyIntegration(projectId: "p1") { $0.webhookUrl = "https://93.184.215.14/changed" }
            #expect(try await first.projectIdForKey(hash: "hash-k1") == nil)
            #expect(try await first.integration(projectId: "p1")?.webhookUrl == "https://93.184.215.14/changed")
            #expect(try await second.deleteIntegration(projectId: "p1", at: .init(millisecondsSince1970: 50)))
            #expect(try await first.integration(projectId: "p1") == nil)
        }
    }

    @Test func sqliteRunsInWALWithFullSync() async throws {
        try await Self.withStore(.sqlite) { store, _ in
            let sqlite = try #require(store as? SQLiteStore)
            let (mode, sync) = try await sqlite.pool.write { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
            }
            #expect(mode == "wal")
            #expect(sync == 2)  // FULL
        }
    }

    /// The read cache is only as good as its change detector: it must be readable and move on every commit.
    @Test func sqliteChangeStampMovesOnEveryCommit() async throws {
        try await Self.withStore(.sqlite) { store, _ in
            let stamp = try #require(store as? SQLiteStore).changes
            var seen = [try #require(stamp.current())]
            try await store.createProject(Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: Self.key("p1", "k1"))
            for index in 2...5 {
                seen.append(try #require(stamp.current()))
                try await store.addKey(Self.key("p1", "k\(index)"))
            }
            seen.append(try #require(stamp.current()))
            for (offset, value) in seen.enumerated().dropFirst() { #expect(value != seen[offset - 1]) }
            _ = try await store.keys(projectId: "p1")  // reads do not move it
            #expect(stamp.current() == seen.last)
        }
    }

    /// Heads carry their event so that a claim reads nothing, but only so many: past the limit a
    /// backlog keeps positions only in memory, and the claim reads those events back, bodies and all.
    @Test func sqliteCarriedEventsAreBoundedAndTheRestReadBack() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("s.sqlite").path, carriedEventLimit: 2)
        let at = Timestamp(millisecondsSince1970: 1)
        try await store.createProject(Project(id: "p1", name: "one", createdAt: at), firstKey: Self.key("p1", "k1"))
        var bodies: [String: [UInt8]] = [:]
        for index in 0..<5 {
            let body = Array("{\"n\":\(index)}".utf8)
            let event = OutboxEvent(
                id: "e\(index)", projectId: "p1", destination: .panel, orderingKey: "panel:p1:c\(index)",
                conversationId: "c\(index)", eventType: "message", body: body, status: .pending,
                nextAttemptAt: at, createdAt: at)
            bodies[event.id] = body
            try await store.startConversation(
                Conversation(
                    projectId: "p1", id: "c\(index)", roomId: "r\(index)", botId: "b", userId: "u\(index)", state: .active,
                    startAt: at, assignment: nil, metadata: nil),
                messages: [], events: [event])
        }
        #expect(store.schedule.carriedEvents == 2)
        let claimed = try await store.claimDueEvents(
            now: at, leaseUntil: at.adding(seconds: 60), limit: 10,
            slots: DestinationSlots(maximumPerDestination: 16))
        #expect(claimed.count == 5)
        for event in claimed {
            #expect(event.body == bodies[event.id])
            #expect(event.attemptCount == 0 && event.status == .delivering)
        }
        try await store.close()
    }

    /// Events written behind their conversation's head wait in memory with their bodies, so a
    /// settlement moves the head on without reading the next event back; past the carry limit the
    /// next one is read back. Either way each goes out in order, with its own body, never attempted.
    @Test(arguments: [10, 2])
    func sqliteSettlementMovesTheHeadToTheNextEventInOrder(carryLimit: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("s.sqlite").path, carriedEventLimit: carryLimit)
        let at = Timestamp(millisecondsSince1970: 1)
        try await store.createProject(Project(id: "p1", name: "one", createdAt: at), firstKey: Self.key("p1", "k1"))
        let conversation = Conversation(
            projectId: "p1", id: "c1", roomId: "r1", botId: "b", userId: "u1", state: .active,
            startAt: at, assignment: nil, metadata: nil)
        func event(_ index: Int) -> OutboxEvent {
            OutboxEvent(
                id: "e\(index)", projectId: "p1", destination: .panel, orderingKey: "panel:p1:c1", conversationId: "c1",
                eventType: "message", body: Array("{\"n\":\(index)}".utf8), status: .pending, nextAttemptAt: at, createdAt: at)
        }
        try await store.startConversation(conversation, messages: [], events: [event(0)])
        for index in 1..<4 {
            let write = IdempotentWrite(
                projectId: "p1", scope: "test", key: "m\(index)", response: "{}", activeConversationId: "c1",
                message: nil, events: [event(index)], at: at)
            #expect(try await store.recordOnce(write) == .recorded)
        }
        #expect(store.schedule.carriedEvents == min(4, carryLimit))
        let slots = DestinationSlots(maximumPerDestination: 16)
        for index in 0..<4 {
            let claimed = try await store.claimDueEvents(now: at, leaseUntil: at.adding(seconds: 60), limit: 10, slots: slots)
            #expect(claimed.map(\.id) == ["e\(index)"])
            #expect(claimed.first?.body == Array("{\"n\":\(index)}".utf8))
            #expect(claimed.first?.attemptCount == 0 && claimed.first?.status == .delivering)
            let attempt = DeliveryAttempt(
                eventId: "e\(index)", number: 1, startedAt: at, durationMilliseconds: 1, statusCode: 200,
                errorClass: nil, responseBody: nil)
            try await store.finishAttempt(attempt, outcome: .delivered(at: at))
        }
        #expect(try await store.claimDueEvents(now: at, leaseUntil: at.adding(seconds: 60), limit: 10, slots: slots).isEmpty)
        #expect(store.schedule.carriedEvents == 0)
        try await store.close()
    }

    /// A database written before the conversation items (migrations 005 and 006, which numbers the
    /// conversations) keeps its history, in order, and its event log by conversation; what is
    /// written after lands in order after it.
    @Test func sqliteHistoryAndLogSurviveTheConversationItemsMigration() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("s.sqlite").path
        let old = try DatabaseQueue(path: path)
        try SQLiteMigrations.migrator.migrate(old, upTo: "004_event_bodies_apart")
        try await old.write { db in
            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES ('p1', 'one', 1)")
            try db.execute(
                sql: """
                    INSERT INTO conversations (project_id, id, room_id, bot_id, user_id, state, start_at)
                    VALUES ('p1', 'c0', 'r0', 'b', 'u0', 'closed', 0), ('p1', 'c1', 'r1', 'b', 'u', 'active', 0)
                    """)
            for (index, id) in ["m1", "m2"].enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at)
                        VALUES ('p1', 'c1', ?, 'user', 'text', '{}', ?)
                        """, arguments: [id, index])
                try db.execute(
                    sql: """
                        INSERT INTO events (id, project_id, destination, ordering_key, conversation_id, event_type, status,
                            next_attempt_at, created_at, finished_at) VALUES (?, 'p1', 'panel', 'panel:p1:c1', 'c1', 'message', 'delivered', 0, ?, 1)
                        """, arguments: ["evt-\(id)", index])
                try db.execute(sql: "INSERT INTO event_bodies (seq, body) VALUES (last_insert_rowid(), X'7B7D')")
            }
        }
        try old.close()
        let store = try SQLiteStore(path: path)
        #expect(try await store.messages(projectId: "p1", conversationId: "c1").map(\.id) == ["m1", "m2"])
        #expect(
            try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 10, before: nil).map(\.event.id)
                == ["evt-m2", "evt-m1"])
        let at = Timestamp(millisecondsSince1970: 5)
        let event = OutboxEvent(
            id: "evt-m3", projectId: "p1", destination: .panel, orderingKey: "panel:p1:c1", conversationId: "c1",
            eventType: "message", body: Array("{}".utf8), status: .pending, nextAttemptAt: at, createdAt: at)
        #expect(try await store.messages(projectId: "p1", conversationId: "c0").isEmpty)
        try await store.startConversation(
            Conversation(
                projectId: "p1", id: "c2", roomId: "r2", botId: "b", userId: "u2", state: .active, startAt: at, assignment: nil, metadata: nil),
            messages: [ConversationMessage(conversationId: "c1", id: "m3", direction: .user, type: "text", content: .members([:]), createdAt: at)],
            events: [event])
        // The conversations keep their fields, and the new one is found beside them.
        #expect(try await store.conversation(projectId: "p1", id: "c1")?.roomId == "r1")
        #expect(try await store.conversation(projectId: "p1", id: "c2")?.state == .active)
        #expect(try await store.messages(projectId: "p1", conversationId: "c1").map(\.id) == ["m1", "m2", "m3"])
        #expect(
            try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 10, before: nil).map(\.event.id)
                == ["evt-m3", "evt-m2", "evt-m1"])
        try await store.close()
    }

    /// Items written in bulk, ten at a time here: the history and the event log by conversation
    /// read the indexed items and what was written since together, in order, with paging and
    /// status filters across the boundary, and the same after a restart.
    @Test func sqliteItemsWrittenInBulkKeepHistoryAndLogInOrder() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.sqlite").path
        var store = try SQLiteStore(path: path, carriedEventLimit: 10_000, itemsBatch: 10)
        let at = Timestamp(millisecondsSince1970: 5)
        try await store.createProject(Project(id: "p1", name: "one", createdAt: at), firstKey: Self.key("p1", "k1"))
        func event(_ id: String, _ conversation: String) -> OutboxEvent {
            OutboxEvent(
                id: id, projectId: "p1", destination: .panel, orderingKey: "panel:p1:\(conversation)", conversationId: conversation,
                eventType: "message", body: Array("{}".utf8), status: .pending, nextAttemptAt: at, createdAt: at)
        }
        func message(_ id: String, _ conversation: String) -> ConversationMessage {
            ConversationMessage(conversationId: conversation, id: id, direction: .user, type: "text", content: .members([:]), createdAt: at)
        }
        func conversation(_ id: String) -> Conversation {
            Conversation(
                projectId: "p1", id: id, roomId: "r-\(id)", botId: "b", userId: "u-\(id)", state: .active, startAt: at,
                assignment: nil, metadata: nil)
        }
        // c1 and c2, then nine writes each adding an event and a message to both (one batch each):
        // the items are written in bulk after rounds 2, 5 and 8.
        try await store.startConversation(conversation("c1"), messages: [message("m1-0", "c1")], events: [event("e1-0", "c1")])
        try await store.startConversation(conversation("c2"), messages: [message("m2-0", "c2")], events: [event("e2-0", "c2")])
        for round in 1...9 {
            try await store.startConversation(
                conversation("x\(round)"), messages: [message("m1-\(round)", "c1"), message("m2-\(round)", "c2")],
                events: [event("e1-\(round)", "c1"), event("e2-\(round)", "c2")])
        }
        // Both parts are in use: some items written in bulk, some rows written since.
        let indexed = try #require(try store.reader.fetchOne("SELECT COUNT(*) AS count FROM conversation_items", [])?.integer("count"))
        let waiting = try #require(try store.reader.fetchOne(SQLiteConversationIndex.waiting, [])?.values.first?.integer)
        #expect(indexed > 0 && waiting > 0)

        let messages = (0...9).map { "m1-\($0)" }, events = (0...9).reversed().map { "e1-\($0)" }
        // c1's events delivered in order up to e1-8, the last one with its item; e1-9 is not indexed yet.
        for index in 0...8 {
            let claimed = try await store.claimDueEvents(
                now: at, leaseUntil: at.adding(seconds: 60), limit: 50,
                slots: DestinationSlots(maximumPerDestination: 50))
            let mine = try #require(claimed.first { $0.id == "e1-\(index)" })
            try await store.finishAttempt(
                DeliveryAttempt(
                    eventId: mine.id, number: 1, startedAt: at, durationMilliseconds: 1,
                    statusCode: 200, errorClass: nil, responseBody: nil), outcome: .delivered(at: at))
            try await store.releaseClaims(claimed.map(\.id).filter { $0 != mine.id })
        }
        for _ in 0..<2 {  // before and after a restart
            #expect(try await store.messages(projectId: "p1", conversationId: "c1").map(\.id) == messages)
            #expect(try await store.messages(projectId: "p1", conversationId: "c2").map(\.id) == (0...9).map { "m2-\($0)" })
            #expect(try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 50, before: nil).map(\.event.id) == events)
            var paged: [String] = [], cursor: Int64?
            repeat {
                let page = try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 3, before: cursor)
                paged += page.map(\.event.id)
                cursor = page.count == 3 ? page.last?.sequence : nil
            } while cursor != nil
            #expect(paged == events)
            #expect(
                try await store.events(projectId: "p1", status: .delivered, conversationId: "c1", limit: 50, before: nil)
                    .map(\.event.id) == Array(events.dropFirst()))
            #expect(
                try await store.events(projectId: "p1", status: .pending, conversationId: "c1", limit: 50, before: nil)
                    .map(\.event.id) == ["e1-9"])
            try await store.close()
            store = try SQLiteStore(path: path, carriedEventLimit: 10_000, itemsBatch: 10)
        }
        try await store.close()
    }

    /// Text is bound from the string's own UTF-8 bytes, with its length: the empty string stays
    /// text (a null pointer would bind NULL), a NUL inside is kept, and small (inline) and
    /// large strings come back byte for byte.
    @Test func sqliteBindsEveryStringAsIs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-bind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bind.sqlite").path
        try DatabaseQueue(path: path).write { try $0.execute(sql: "CREATE TABLE t (x)") }
        let reader = SQLiteReader(path: path)
        defer { reader.close() }
        for text in ["", "a", "a\u{0}b", "José 🙂", String(repeating: "é", count: 5000), String(Substring("xhello".dropFirst()))] {
            let row = try #require(try reader.fetchOne("SELECT ?1, typeof(?1), length(CAST(?1 AS BLOB))", [.text(text)]))
            #expect(row.values == [.text(text), .text("text"), .integer(Int64(text.utf8.count))])
        }
    }

    /// The server's own commits of messages and events keep the key and integration lookups cached;
    /// a commit that changes a key (its own, or another process's: the CLI) is seen on the next lookup.
    @Test func sqliteLookupCacheKeptAcrossOwnCommitsOnly() async throws {
        try await Self.withStores(.sqlite, instances: 2) { stores, _ in
            let server = try #require(stores[0] as? SQLiteStore), cli = stores[1]
            let at = Timestamp(millisecondsSince1970: 1)
            try await server.createProject(Project(id: "p1", name: "one", createdAt: at), firstKey: Self.key("p1", "k1"))
            try await server.addKey(Self.key("p1", "k2"))
            let loads = Mutex(0)
            let lookup = { (hash: String) in
                try server.cache.projectForKey(hash) {
                    loads.withLock { $0 += 1 }
                    return try server.reader.fetchOne("SELECT project_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL", [.text(hash)])?.text(
                        "project_id")
                }
            }
            func loadsDuring(_ body: () throws -> String?) rethrows -> (String?, Int) {
                let before = loads.withLock { $0 }
                let value = try body()
                return (value, loads.withLock { $0 } - before)
            }
            // Two own commits first: the writer can vouch for a stamp only after one of its commits.
            for index in 0..<2 {
                _ = try await server.upsertUser(EndUser(projectId: "p1", id: "u\(index)", names: "x", referenceId: nil, createdAt: at, updatedAt: at))
                _ = try lookup("hash-k1")
            }
            #expect(try loadsDuring { try lookup("hash-k1") } == ("p1", 0))
            for index in 2..<6 {  // the server's own writes to other tables
                _ = try await server.upsertUser(EndUser(projectId: "p1", id: "u\(index)", names: "x", referenceId: nil, createdAt: at, updatedAt: at))
                #expect(try loadsDuring { try lookup("hash-k1") } == ("p1", 0))
            }
            // Another process revokes k1: the next lookup reads again and sees it.
            _ = try await cli.revokeKey(projectId: "p1", keyId: "k1", hash: nil, at: at)
            #expect(try loadsDuring { try lookup("hash-k1") } == (nil, 1))
            #expect(try await server.projectIdForKey(hash: "hash-k1") == nil)
            // The server's own write to api_keys drops the cache as well.
            _ = try await server.upsertUser(EndUser(projectId: "p1", id: "u9", names: "x", referenceId: nil, createdAt: at, updatedAt: at))
            #expect(try loadsDuring { try lookup("hash-k2") }.0 == "p1")
            _ = try await server.revokeKey(projectId: "p1", keyId: "k2", hash: nil, at: at)
            #expect(try loadsDuring { try lookup("hash-k2") } == (nil, 1))
        }
    }
}

@Suite("Channel message context")
struct ChannelMessageContextTests {
    /// The one read a channel message makes: what exists of bot, user, room and active conversation,
    /// each absent part nil, on both backends alike, and up to date after every write (SQLite caches it).
    @Test(arguments: StoreContractTests.Backend.allCases)
    func readsWhatExistsInOneGo(backend: StoreContractTests.Backend) async throws {
        try await StoreContractTests.withStore(backend) { store, _ in
            let at = Timestamp(millisecondsSince1970: 1_000)
            try await store.createProject(Project(id: "p1", name: "one", createdAt: at), firstKey: StoreContractTests.key("p1", "k1"))

            let empty = try await store.channelMessageContext(projectId: "p1", botId: "b1", userId: "u1")
            #expect(empty == ChannelMessageContext(bot: nil, user: nil, room: nil, activeConversation: nil))

            let bot = Bot(
                projectId: "p1", id: "b1", name: "Sales", channelWebhookUrl: "https://93.184.215.14/channel",
                channelSecret: SealedSecret(storedForm: "v1.x"), createdAt: at, updatedAt: at)
            try await store.insertBot(bot)
            #expect(try await store.channelMessageContext(projectId: "p1", botId: "b1", userId: "u1").bot == bot)
            let user = try await store.upsertUser(
                EndUser(projectId: "p1", id: "u1", names: "Ana", referenceId: "ref-9", createdAt: at, updatedAt: at))
            let room = try await store.ensureRoom(projectId: "p1", botId: "b1", userId: "u1", newId: "r1", at: at)
            let conversation = Conversation(
                projectId: "p1", id: "c1", roomId: "r1", botId: "b1", userId: "u1", state: .active, startAt: at,
                assignment: .members(["type": .string("queue"), "target": .string("sales")]), metadata: .members([:]))
            try await store.startConversation(conversation, messages: [], events: [])
            let open = try await store.channelMessageContext(projectId: "p1", botId: "b1", userId: "u1")
            #expect(open == ChannelMessageContext(bot: bot, user: user, room: room, activeConversation: conversation))

            #expect(
                try await store.recordOnce(
                    IdempotentWrite(
                        projectId: "p1", scope: "channel", key: "m1", response: #"{"routedTo":"panel"}"#, activeConversationId: "c1",
                        message: nil, events: [], at: at)) == .recorded)
            _ = try await store.closeConversation(
                projectId: "p1", conversationId: "c1", at: at, reason: "closed_by_operator", messages: [], events: [])
            let closed = try await store.channelMessageContext(projectId: "p1", botId: "b1", userId: "u1")
            #expect(closed.room == room && closed.activeConversation == nil)
            let renamed = try await store.upsertUser(
                EndUser(projectId: "p1", id: "u1", names: "Ana B", referenceId: nil, createdAt: at, updatedAt: at))
            #expect(try await store.channelMessageContext(projectId: "p1", botId: "b1", userId: "u1").user == renamed)
            // Another project sees none of it.
            let other = try await store.channelMessageContext(projectId: "p2", botId: "b1", userId: "u1")
            #expect(other == ChannelMessageContext(bot: nil, user: nil, room: nil, activeConversation: nil))
        }
    }
}

@Suite("Retention")
struct RetentionTests {
    @Test(arguments: StoreContractTests.Backend.allCases)
    func onlyOldDeliveredEventsArePruned(backend: StoreContractTests.Backend) async throws {
        try await StoreContractTests.withStore(backend) { store, _ in
            try await store.createProject(
                Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)),
                firstKey: StoreContractTests.key("p1", "k1"))
            let day: Int64 = 86_400_000
            let now = Timestamp(millisecondsSince1970: 100 * day)
            func event(_ id: String, conversation: String) -> OutboxEvent {
                OutboxEvent(
                    id: id, projectId: "p1", destination: .panel, orderingKey: "panel:p1:\(conversation)", conversationId: conversation,
                    eventType: "message", body: Array("{}".utf8), status: .pending, nextAttemptAt: .init(millisecondsSince1970: 0),
                    createdAt: .init(millisecondsSince1970: 0))
            }
            let conversation = Conversation(
                projectId: "p1", id: "c1", roomId: "r1", botId: "b", userId: "u", state: .active,
                startAt: .init(millisecondsSince1970: 0), assignment: nil, metadata: nil)
            let greeting = ConversationMessage(
                conversationId: "c1", id: "hello", direction: .system, type: "text",
                content: .members(["body": "hi"]), createdAt: .init(millisecondsSince1970: 0))
            try await store.startConversation(conversation, messages: [greeting], events: (0..<7).map { event("e\($0)", conversation: "c\($0)") })
            let claimed = try await store.claimDueEvents(
                now: now, leaseUntil: now.adding(seconds: 60), limit: 10, slots: DestinationSlots(maximumPerDestination: 16))
            #expect(claimed.count == 7)
            for (index, claim) in claimed.enumerated() {
                let settledAt = Timestamp(millisecondsSince1970: index < 5 ? 10 * day : 99 * day)  // five old, two recent
                let outcome: DeliveryOutcome = index == 0 ? .failed(at: settledAt) : .delivered(at: settledAt)
                try await store.finishAttempt(
                    DeliveryAttempt(
                        eventId: claim.id, number: 1, startedAt: settledAt, durationMilliseconds: 1, statusCode: 200,
                        errorClass: nil, responseBody: nil), outcome: outcome)
            }
            let service = RetentionService(
                store: store, retention: .seconds(30 * 86_400), batchSize: 2, now: { now },
                logger: .init(label: "test"))
            #expect(try await service.pruneOnce() == 4)  // the four old delivered ones, in batches of two
            let left = try await store.events(projectId: "p1", status: nil, conversationId: nil, limit: 50, before: nil)
            #expect(Set(left.map(\.event.id)) == ["e0", "e5", "e6"])  // the failed one stays, and the recent ones
            #expect(try await store.event(projectId: "p1", id: "e1") == nil)
            #expect(try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 50, before: nil).isEmpty)
            #expect(try await store.messages(projectId: "p1", conversationId: "c1").map(\.id) == ["hello"])  // the history stays
        }
    }
}
