import Testing

@testable import Relevo

/// Writes made all at once, as a busy gateway makes them (channel and panel messages, conversation
/// starts and closes): on PostgreSQL they are written in batches, and each must still get the answer
/// it would get alone.
@Suite("Concurrent writes")
struct ConcurrentRecordTests {
    static let at = Timestamp(millisecondsSince1970: 1_000)

    /// A message in `conversation` with its panel event, answered with `response`.
    static func write(key: String, conversation: String, response: String) -> IdempotentWrite {
        IdempotentWrite(
            projectId: "p1", scope: "channel", key: key, response: response, activeConversationId: conversation,
            message: ConversationMessage(
                conversationId: conversation, id: key, direction: .user, type: "text", content: .members(["text": .string(key)]),
                createdAt: at),
            events: [
                OutboxEvent(
                    id: "e-\(key)-\(response)", projectId: "p1", destination: .panel, orderingKey: "panel:p1:\(conversation)",
                    conversationId: conversation, eventType: "message", body: Array(#"{"key":"\#(key)"}"#.utf8), status: .pending,
                    nextAttemptAt: at, createdAt: at)
            ],
            at: at)
    }

    static func conversation(_ id: String) -> Conversation {
        Conversation(
            projectId: "p1", id: id, roomId: "r-\(id)", botId: "b1", userId: "u-\(id)", state: .active, startAt: at,
            assignment: nil, metadata: nil)
    }

    /// 240 writes at once on two stores (two instances): 160 keys, 40 of them sent twice (once to each
    /// instance), and 40 writes to a conversation that closed. Every key is recorded once, its repeat
    /// answers the first answer, the closed conversation gets nothing, and each conversation's history
    /// and its events agree on one order.
    @Test(arguments: StoreContractTests.Backend.allCases)
    func eachWriteGetsItsOwnAnswer(backend: StoreContractTests.Backend) async throws {
        let instances = backend == .postgres ? 2 : 1
        try await StoreContractTests.withStores(backend, instances: instances) { stores, _ in
            let store = stores[0]
            try await store.createProject(Project(id: "p1", name: "one", createdAt: Self.at), firstKey: StoreContractTests.key("p1", "k1"))
            for id in ["c0", "c1", "c2", "c3", "closed"] { try await store.startConversation(Self.conversation(id), messages: [], events: []) }
            _ = try await store.closeConversation(
                projectId: "p1", conversationId: "closed", at: Self.at, reason: "closed_by_operator", messages: [], events: [])

            var writes: [(store: Int, write: IdempotentWrite)] = []
            for index in 0..<160 {
                let key = "m\(index)"
                writes.append((0, Self.write(key: key, conversation: "c\(index % 4)", response: "first")))
                if index < 40 { writes.append((instances - 1, Self.write(key: key, conversation: "c\(index % 4)", response: "second"))) }
            }
            for index in 0..<40 { writes.append((index % instances, Self.write(key: "late\(index)", conversation: "closed", response: "late"))) }
            let outcomes = try await withThrowingTaskGroup(of: (IdempotentWrite, IdempotentWriteOutcome).self) { group in
                for (instance, write) in writes.shuffled() {
                    group.addTask { (write, try await stores[instance].recordOnce(write)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            var recorded: [String: String] = [:]
            for (write, outcome) in outcomes where outcome == .recorded {
                #expect(recorded.updateValue(write.response, forKey: write.key) == nil, "\(write.key) recorded twice")
            }
            #expect(recorded.count == 160)
            for (write, outcome) in outcomes where write.activeConversationId == "closed" {
                #expect(outcome == .conversationNotActive)
                #expect(try await store.recordedResponse(projectId: "p1", scope: "channel", key: write.key) == nil)
            }
            for (write, outcome) in outcomes where write.activeConversationId != "closed" && outcome != .recorded {
                #expect(outcome == .duplicate(response: recorded[write.key] ?? "?"), "\(write.key)")
            }
            #expect(try await store.messages(projectId: "p1", conversationId: "closed").isEmpty)
            for conversation in ["c0", "c1", "c2", "c3"] {
                let history = try await store.messages(projectId: "p1", conversationId: conversation).map(\.id)
                #expect(history.count == 40 && Set(history).count == 40)
                let log = try await store.events(projectId: "p1", status: nil, conversationId: conversation, limit: 100, before: nil)
                #expect(log.reversed().map(\.event.id) == history.map { "e-\($0)-\(recorded[$0] ?? "?")" }, "\(conversation)")
            }
            // Each conversation's events go out in that order, one at a time.
            let slots = DestinationSlots(maximumPerDestination: 16)
            let claimed = try await store.claimDueEvents(now: Self.at, leaseUntil: Self.at.adding(seconds: 60), limit: 100, slots: slots)
            #expect(claimed.count == 4)
        }
    }

    /// An event of `conversation`'s panel key.
    static func event(_ id: String, conversation: String) -> OutboxEvent {
        OutboxEvent(
            id: id, projectId: "p1", destination: .panel, orderingKey: "panel:p1:\(conversation)", conversationId: conversation,
            eventType: id, body: Array(#"{"id":"\#(id)"}"#.utf8), status: .pending, nextAttemptAt: at, createdAt: at)
    }

    /// 30 rooms each started twice at once (once through each instance), then each started
    /// conversation closed twice at once, with closes of conversations that do not exist among them:
    /// one start per room and one close per conversation win, the others are refused as a user would
    /// be (already active, not active), and each conversation has its start's message and exactly its
    /// winning start's and close's events, in that order.
    @Test(arguments: StoreContractTests.Backend.allCases)
    func concurrentStartsAndClosesEachGetTheirOwnAnswer(backend: StoreContractTests.Backend) async throws {
        let instances = backend == .postgres ? 2 : 1
        try await StoreContractTests.withStores(backend, instances: instances) { stores, _ in
            try await stores[0].createProject(
                Project(id: "p1", name: "one", createdAt: Self.at), firstKey: StoreContractTests.key("p1", "k1"))
            let starts = try await withThrowingTaskGroup(of: (room: Int, id: String, started: Bool).self) { group in
                for room in 0..<30 {
                    for attempt in 0..<2 {
                        group.addTask {
                            let id = "c\(room)-\(attempt)"
                            let conversation = Conversation(
                                projectId: "p1", id: id, roomId: "r\(room)", botId: "b1", userId: "u\(room)", state: .active,
                                startAt: Self.at, assignment: attempt == 0 ? .members(["team": .string("a")]) : nil, metadata: nil)
                            let message = ConversationMessage(
                                conversationId: id, id: "hello-\(id)", direction: .system, type: "text",
                                content: .members(["body": .string("hello")]), createdAt: Self.at)
                            do {
                                try await stores[(room + attempt) % instances].startConversation(
                                    conversation, messages: [message], events: [Self.event("start-\(id)", conversation: id)])
                                return (room, id, true)
                            } catch StoreError.conflict {
                                return (room, id, false)
                            }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let started = starts.filter(\.started)
            #expect(started.count == 30 && Set(started.map(\.room)).count == 30)

            let closes = try await withThrowingTaskGroup(of: (id: String, closed: Bool).self) { group in
                for id in started.map(\.id) + ["missing-1", "missing-2"] {
                    for attempt in 0..<2 {
                        group.addTask {
                            let closed = try await stores[attempt % instances].closeConversation(
                                projectId: "p1", conversationId: id, at: Self.at.adding(seconds: 1), reason: "closed_by_operator",
                                messages: [], events: [Self.event("close-\(id)-\(attempt)", conversation: id)])
                            #expect(closed == nil || (closed?.state == .closed && closed?.id == id))
                            return (id, closed != nil)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let closedOnce = Dictionary(grouping: closes.filter(\.closed), by: \.id).mapValues(\.count)
            #expect(closedOnce == Dictionary(uniqueKeysWithValues: started.map { ($0.id, 1) }))

            let store = stores[0]
            for (_, id, _) in started {
                let conversation = try await store.conversation(projectId: "p1", id: id)
                #expect(conversation?.state == .closed && conversation?.metadata == nil)
                #expect((conversation?.assignment != nil) == id.hasSuffix("-0"))  // given to the first attempt only
                #expect(try await store.messages(projectId: "p1", conversationId: id).map(\.id) == ["hello-\(id)"])
                let log = try await store.events(projectId: "p1", status: nil, conversationId: id, limit: 10, before: nil)
                #expect(log.count == 2 && log.last?.event.id == "start-\(id)" && log.first?.event.id.hasPrefix("close-\(id)-") == true)
            }
            for (_, id, _) in starts.filter({ !$0.started }) {
                #expect(try await store.conversation(projectId: "p1", id: id) == nil)
                #expect(try await store.messages(projectId: "p1", conversationId: id).isEmpty)
                #expect(try await store.events(projectId: "p1", status: nil, conversationId: id, limit: 10, before: nil).isEmpty)
            }
        }
    }

    /// The reads every request makes, made all at once (on PostgreSQL, in batches): each gets its own
    /// answer, absent parts included, and a key revoked through another instance is refused by the
    /// reads that follow.
    @Test(arguments: StoreContractTests.Backend.allCases)
    func concurrentReadsEachGetTheirOwnAnswer(backend: StoreContractTests.Backend) async throws {
        let instances = backend == .postgres ? 2 : 1
        try await StoreContractTests.withStores(backend, instances: instances) { stores, _ in
            let store = stores[0]
            for project in 0..<20 {
                try await store.createProject(
                    Project(id: "p\(project)", name: "n", createdAt: Self.at), firstKey: StoreContractTests.key("p\(project)", "k\(project)"))
                if project % 2 == 0 { try await store.insertIntegration(StoreContractTests.integration("p\(project)", id: "i\(project)")) }
                try await store.insertBot(
                    Bot(
                        projectId: "p\(project)", id: "b1", name: "bot \(project)", channelWebhookUrl: nil,
                        channelSecret: SealedSecret(storedForm: "v1.x"), createdAt: Self.at, updatedAt: Self.at))
            }
            let reads = try await withThrowingTaskGroup(of: Bool.self) { group in
                for round in 0..<10 {
                    for project in 0..<20 {
                        group.addTask {
                            let instance = stores[(round + project) % instances]
                            let owner = try await instance.projectIdForKey(hash: "hash-k\(project)")
                            let stranger = try await instance.projectIdForKey(hash: "hash-none-\(project)")
                            let integration = try await instance.integration(projectId: "p\(project)")
                            let context = try await instance.channelMessageContext(projectId: "p\(project)", botId: "b1", userId: "u")
                            return owner == "p\(project)" && stranger == nil && integration?.id == (project % 2 == 0 ? "i\(project)" : nil)
                                && context.bot?.name == "bot \(project)" && context.user == nil && context.room == nil
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(reads.count == 200 && reads.allSatisfy { $0 })
            #expect(try await store.revokeKey(projectId: "p3", keyId: "k3", hash: nil, at: Self.at))
            for instance in stores { #expect(try await instance.projectIdForKey(hash: "hash-k3") == nil) }
        }
    }

    /// A write PostgreSQL refuses (text with a NUL character) fails by itself; the writes it was
    /// sent with are recorded.
    @Test(.enabled(if: StoreContractTests.Backend.allCases.contains(.postgres), "PostgreSQL only"))
    func aRefusedWriteFailsAlone() async throws {
        try await StoreContractTests.withStore(.postgres) { store, _ in
            try await store.createProject(Project(id: "p1", name: "one", createdAt: Self.at), firstKey: StoreContractTests.key("p1", "k1"))
            try await store.startConversation(Self.conversation("c0"), messages: [], events: [])
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<60 {
                    let key = index == 30 ? "bad\u{0}key" : "m\(index)"
                    group.addTask {
                        let outcome = try? await store.recordOnce(Self.write(key: key, conversation: "c0", response: "first"))
                        return (key, outcome == .recorded)
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(results["bad\u{0}key"] == false)
            #expect(results.values.filter { $0 }.count == 59)
            #expect(try await store.messages(projectId: "p1", conversationId: "c0").count == 59)
        }
    }
}
