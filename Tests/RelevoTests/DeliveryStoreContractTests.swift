import Foundation
import Logging
import Synchronization
import Testing

@testable import Relevo

/// The outbox as the dispatcher and the event log use it, on every backend: claims hand out the head
/// of each ordering key only, settlements move the key on, and the queue survives what operators do
/// to it (redelivery, a deleted integration, a bot without a channel URL). The `postgres…` tests are
/// about several instances sharing one database, which only PostgreSQL supports.
@Suite("Delivery store contract")
struct DeliveryStoreContractTests {
    typealias Backend = StoreContractTests.Backend
    static let start = Timestamp(millisecondsSince1970: 1_000_000)

    /// Runs `body` on `instances` stores on a database with a project `p1`, an integration, bot `b1`
    /// (no channel URL) and the active conversations `c1`… `cN` (in rooms `r1`… `rN`), each started
    /// with the events `events(conversation)` gives; the stores are closed afterwards, whatever happens
    /// (``StoreContractTests/withStores(_:instances:_:)``).
    static func withWorld(
        _ backend: Backend, instances: Int = 1, conversations: Int = 1,
        events: (String) -> [OutboxEvent] = { _ in [] },
        _ body: ([any RelevoStore]) async throws -> Void
    ) async throws {
        try await StoreContractTests.withStores(backend, instances: instances) { stores, _ in
            let store = stores[0]
            try await store.createProject(Project(id: "p1", name: "one", createdAt: start), firstKey: StoreContractTests.key("p1", "k1"))
            try await store.insertIntegration(StoreContractTests.integration("p1"))
            try await store.insertBot(
                Bot(
                    projectId: "p1", id: "b1", name: "bot", channelWebhookUrl: nil,
                    channelSecret: SealedSecret(storedForm: "v1.x"), createdAt: start, updatedAt: start))
            for index in 1...conversations {
                try await store.startConversation(conversation("c\(index)", room: "r\(index)"), messages: [], events: events("c\(index)"))
            }
            try await body(stores)
        }
    }

    static func conversation(_ id: String, room: String) -> Conversation {
        Conversation(
            projectId: "p1", id: id, roomId: room, botId: "b1", userId: "u-\(room)", state: .active, startAt: start,
            assignment: nil, metadata: nil)
    }

    static func event(_ id: String, _ conversation: String, to destination: OutboxEvent.Destination = .panel) -> OutboxEvent {
        OutboxEvent(
            id: id, projectId: "p1", destination: destination, orderingKey: "\(destination.kind):p1:\(conversation)",
            conversationId: conversation, eventType: "message", body: Array("{\"id\":\"\(id)\"}".utf8), status: .pending,
            nextAttemptAt: start, createdAt: start)
    }

    static func attempt(_ eventId: String, _ number: Int, status: Int? = 200) -> DeliveryAttempt {
        DeliveryAttempt(
            eventId: eventId, number: number, startedAt: start, durationMilliseconds: 3, statusCode: status,
            errorClass: nil, responseBody: nil)
    }

    static func claim(
        _ store: any RelevoStore, at time: Timestamp = start, lease: Int64 = 60, limit: Int = 10,
        skipping: Set<String> = []
    ) async throws -> [OutboxEvent] {
        try await store.claimDueEvents(
            now: time, leaseUntil: time.adding(seconds: lease), limit: limit,
            slots: DestinationSlots(maximumPerDestination: 16, inFlight: Dictionary(uniqueKeysWithValues: skipping.map { ($0, 16) })))
    }

    /// Appends events to a conversation the way a channel message does (idempotent write).
    static func append(_ events: [OutboxEvent], to store: any RelevoStore, key: String) async throws {
        let outcome = try await store.recordOnce(
            IdempotentWrite(
                projectId: "p1", scope: "channel", key: key, response: "{}", activeConversationId: events.first?.conversationId,
                message: nil, events: events, at: start))
        #expect(outcome == .recorded)
    }

    @Test(arguments: Backend.allCases)
    func claimsHandOutTheHeadOfEachKeyInOrder(backend: Backend) async throws {
        try await Self.withWorld(
            backend, conversations: 2,
            events: { conversation in
                conversation == "c1" ? [Self.event("a1", "c1"), Self.event("a2", "c1")] : [Self.event("b1", "c2")]
            }
        ) { stores in
            let store = stores[0]
            #expect(try await Self.claim(store).map(\.id) == ["a1", "b1"])
            #expect(try await Self.claim(store).isEmpty)  // both heads in flight; a2 waits behind a1

            try await store.finishAttempt(Self.attempt("a1", 1), outcome: .delivered(at: Self.start))
            let second = try await Self.claim(store)
            #expect(second.map(\.id) == ["a2"])
            #expect(second.first?.attemptCount == 0)

            let retryAt = Self.start.adding(seconds: 10)
            try await store.finishAttempt(Self.attempt("a2", 1, status: 503), outcome: .retry(at: retryAt))
            #expect(try await Self.claim(store).isEmpty)
            #expect(try await store.nextDueTime(after: Self.start) == retryAt)
            let retried = try await Self.claim(store, at: retryAt)
            #expect(retried.map(\.id) == ["a2"])
            #expect(retried.first?.attemptCount == 1)  // the dispatcher numbers this attempt 2

            try await store.finishAttempt(Self.attempt("a2", 2), outcome: .delivered(at: retryAt))
            try await store.finishAttempt(Self.attempt("b1", 1), outcome: .delivered(at: retryAt))
            let (logged, attempts) = try #require(try await store.event(projectId: "p1", id: "a2"))
            #expect(logged.event.status == .delivered)
            #expect(logged.finishedAt == retryAt)
            #expect(attempts.map(\.number) == [1, 2])
            #expect(attempts.map(\.statusCode) == [503, 200])
            #expect(try await store.queueStatistics().depth == 0)
        }
    }

    /// A claim hands out, oldest first, no more events of a destination than the room it has left.
    @Test(arguments: Backend.allCases)
    func claimsTakeNoMoreOfADestinationThanItsRoom(backend: Backend) async throws {
        try await Self.withWorld(
            backend, conversations: 6,
            events: { [Self.event("panel-\($0)", $0), Self.event("channel-\($0)", $0, to: .channel(botId: "b1"))] }
        ) { stores in
            let store = stores[0]
            let panel = Self.event("x", "c1").destinationKey
            let channel = Self.event("x", "c1", to: .channel(botId: "b1")).destinationKey
            let full = DestinationSlots(maximumPerDestination: 3, inFlight: [panel: 3, channel: 3])
            #expect(try await store.claimDueEvents(now: Self.start, leaseUntil: Self.start.adding(seconds: 60), limit: 10, slots: full).isEmpty)
            let room = DestinationSlots(maximumPerDestination: 3, inFlight: [panel: 1])
            let claimed = try await store.claimDueEvents(now: Self.start, leaseUntil: Self.start.adding(seconds: 60), limit: 10, slots: room)
            #expect(claimed.map(\.id) == ["panel-c1", "channel-c1", "panel-c2", "channel-c2", "channel-c3"])
        }
    }

    @Test(arguments: Backend.allCases)
    func releasedClaimsComeBackWithTheSameAttemptNumber(backend: Backend) async throws {
        try await Self.withWorld(backend, events: { [Self.event("a1", $0)] }) { stores in
            let store = stores[0]
            #expect(try await Self.claim(store).map(\.id) == ["a1"])
            try await store.releaseClaims(["a1"])
            let again = try await Self.claim(store)
            #expect(again.map(\.id) == ["a1"])
            #expect(again.first?.attemptCount == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func saturatedDestinationsAreSkipped(backend: Backend) async throws {
        // `throws` spelled out: this closure's only `try`s are inside #expect, where inference does not see them.
        try await Self.withWorld(backend, events: { [Self.event("p", $0), Self.event("ch", $0, to: .channel(botId: "b1"))] }) { stores throws in
            let store = stores[0]
            #expect(try await Self.claim(store, skipping: ["p1:panel"]).map(\.id) == ["ch"])
            #expect(try await Self.claim(store).map(\.id) == ["p"])
        }
    }

    @Test(arguments: Backend.allCases)
    func heldChannelEventsWaitForTheBotsURL(backend: Backend) async throws {
        try await Self.withWorld(backend, events: { [Self.event("ch", $0, to: .channel(botId: "b1"))] }) { stores in
            let store = stores[0]
            #expect(try await Self.claim(store).map(\.id) == ["ch"])
            try await store.finishAttempt(Self.attempt("ch", 1, status: nil), outcome: .held)
            #expect(try await Self.claim(store).isEmpty)
            #expect(try await store.event(projectId: "p1", id: "ch")?.0.event.status == .held)
            #expect(try await store.queueStatistics().depth == 1)
            let bot = try await store.updateBotChannel(
                projectId: "p1", botId: "b1", url: "https://93.184.215.14/c",
                at: Self.start.adding(seconds: 1))
            #expect(bot?.channelWebhookUrl == "https://93.184.215.14/c")
            #expect(try await Self.claim(store, at: Self.start.adding(seconds: 1)).map(\.id) == ["ch"])
        }
    }

    @Test(arguments: Backend.allCases)
    func idempotentWritesHappenOnceAndOnlyWhileTheConversationIsActive(backend: Backend) async throws {
        try await Self.withWorld(backend) { stores in
            let store = stores[0]
            try await Self.append([Self.event("e1", "c1")], to: store, key: "m1")
            let repeated = try await store.recordOnce(
                IdempotentWrite(
                    projectId: "p1", scope: "channel", key: "m1", response: "{\"other\":1}", activeConversationId: "c1",
                    message: nil, events: [Self.event("e1-again", "c1")], at: Self.start))
            #expect(repeated == .duplicate(response: "{}"))
            #expect(try await store.recordedResponse(projectId: "p1", scope: "channel", key: "m1") == "{}")

            let closed = try await store.closeConversation(
                projectId: "p1", conversationId: "c1", at: Self.start.adding(seconds: 5),
                reason: "resolved", messages: [], events: [])
            #expect(closed?.state == .closed)
            #expect(closed?.endedReason == "resolved")
            #expect(
                try await store.closeConversation(
                    projectId: "p1", conversationId: "c1", at: Self.start, reason: "again",
                    messages: [], events: []) == nil)
            let late = try await store.recordOnce(
                IdempotentWrite(
                    projectId: "p1", scope: "channel", key: "m2", response: "{}", activeConversationId: "c1",
                    message: nil, events: [Self.event("e2", "c1")], at: Self.start))
            #expect(late == .conversationNotActive)
            // Nothing of the refused write remains: neither the key nor the event.
            #expect(try await store.recordedResponse(projectId: "p1", scope: "channel", key: "m2") == nil)
            #expect(try await store.event(projectId: "p1", id: "e2") == nil)
            #expect(try await store.event(projectId: "p1", id: "e1-again") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func aRoomHasOneActiveConversation(backend: Backend) async throws {
        try await Self.withWorld(backend) { stores in
            let store = stores[0]
            await #expect(throws: StoreError.conflict) {
                try await store.startConversation(Self.conversation("c1-bis", room: "r1"), messages: [], events: [Self.event("x", "c1-bis")])
            }
            #expect(try await store.event(projectId: "p1", id: "x") == nil)  // the refused start wrote no event
            _ = try await store.closeConversation(
                projectId: "p1", conversationId: "c1", at: Self.start, reason: "done",
                messages: [], events: [])
            try await store.startConversation(Self.conversation("c1-bis", room: "r1"), messages: [], events: [])
            #expect(try await store.activeConversation(projectId: "p1", roomId: "r1")?.id == "c1-bis")
        }
    }

    @Test(arguments: Backend.allCases)
    func deletingTheIntegrationCancelsThePanelQueue(backend: Backend) async throws {
        try await Self.withWorld(
            backend,
            events: {
                [Self.event("a1", $0), Self.event("a2", $0), Self.event("ch", $0, to: .channel(botId: "b1"))]
            }
        ) { stores in
            let store = stores[0]
            #expect(try await Self.claim(store).map(\.id) == ["a1", "ch"])  // a1 in flight when the integration goes
            #expect(try await store.deleteIntegration(projectId: "p1", at: Self.start.adding(seconds: 2)))
            try await store.finishAttempt(Self.attempt("a1", 1), outcome: .delivered(at: Self.start.adding(seconds: 3)))
            let late = try #require(try await store.event(projectId: "p1", id: "a1"))
            #expect(late.0.event.status == .cancelled)  // the late answer does not revive it
            #expect(late.0.finishedAt == Self.start.adding(seconds: 2))
            #expect(late.1.map(\.number) == [1])  // but it is recorded, and counted, as the log shows it
            #expect(late.0.event.attemptCount == 1)
            #expect(try await store.event(projectId: "p1", id: "a2")?.0.event.status == .cancelled)
            #expect(try await store.conversation(projectId: "p1", id: "c1")?.endedReason == "integration_deleted")
            try await store.finishAttempt(Self.attempt("ch", 1), outcome: .delivered(at: Self.start.adding(seconds: 3)))
            #expect(try await store.event(projectId: "p1", id: "ch")?.0.event.status == .delivered)  // channel deliveries go on
            #expect(try await Self.claim(store, at: Self.start.adding(seconds: 3)).isEmpty)
        }
    }

    /// Redeliveries asked for all at once, each event twice (once through each instance), among them
    /// unknown ids and an id asked for in another project: one of each pair queues its event, the
    /// other finds it queued already, the rest are not found, and each event is sent once more.
    @Test(arguments: Backend.allCases)
    func concurrentRedeliveriesEachGetTheirOwnAnswer(backend: Backend) async throws {
        let instances = backend == .postgres ? 2 : 1
        try await Self.withWorld(backend, instances: instances, conversations: 12, events: { [Self.event("f-\($0)", $0)] }) { stores in
            for event in try await Self.claim(stores[0], limit: 50) {
                try await stores[0].finishAttempt(Self.attempt(event.id, 1, status: 500), outcome: .failed(at: Self.start))
            }
            let later = Self.start.adding(seconds: 30)
            var asks = (1...12).flatMap { index in [("p1", "f-c\(index)", 0), ("p1", "f-c\(index)", 1)] }
            asks += [("p1", "nope", 0), ("p2", "f-c1", 1)]
            let answers = try await withThrowingTaskGroup(of: (String, String, RedeliveryOutcome).self) { group in
                for (project, id, instance) in asks.shuffled() {
                    group.addTask { (project, id, try await stores[instance % instances].redeliver(projectId: project, id: id, at: later)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for index in 1...12 {
                let outcomes = answers.filter { $0.0 == "p1" && $0.1 == "f-c\(index)" }.map(\.2)
                #expect(outcomes.filter { $0 == .queued }.count == 1 && outcomes.contains(.notRedeliverable(.pending)), "f-c\(index)")
            }
            #expect(answers.filter { $0.1 == "nope" || $0.0 == "p2" }.map(\.2) == [.notFound, .notFound])
            #expect(Set(try await Self.claim(stores[0], at: later, limit: 50).map(\.id)) == Set((1...12).map { "f-c\($0)" }))
        }
    }

    @Test(arguments: Backend.allCases)
    func redeliveryQueuesSettledEventsWithAFreshSchedule(backend: Backend) async throws {
        try await Self.withWorld(backend, conversations: 2, events: { [Self.event("f-\($0)", $0)] }) { stores in
            let store = stores[0]
            for event in try await Self.claim(store) {
                try await store.finishAttempt(Self.attempt(event.id, 1, status: 500), outcome: .failed(at: Self.start))
            }
            let later = Self.start.adding(seconds: 30)
            #expect(try await store.redeliver(projectId: "p1", id: "f-c1", at: later) == .queued)
            #expect(try await store.redeliver(projectId: "p1", id: "nope", at: later) == .notFound)
            let again = try await Self.claim(store, at: later)
            #expect(again.map(\.id) == ["f-c1"])
            #expect(again.first?.retryBase == 1)
            #expect(again.first?.attemptCount == 1)
            #expect(try await store.redeliver(projectId: "p1", id: "f-c1", at: later) == .notRedeliverable(.delivering))
            #expect(try await store.redeliverFailed(projectId: "p1", since: Self.start, at: later) == 1)  // f-c2 only
            #expect(try await store.redeliverFailed(projectId: "p1", since: Self.start, at: later) == 0)
            #expect(try await Self.claim(store, at: later).map(\.id) == ["f-c2"])
        }
    }

    @Test(arguments: Backend.allCases)
    func theEventLogPagesNewestFirst(backend: Backend) async throws {
        try await Self.withWorld(
            backend, conversations: 2,
            events: { conversation in
                (1...3).map { Self.event("\(conversation)-\($0)", conversation) }
            }
        ) { stores in
            let store = stores[0]
            var pages: [[String]] = []
            var cursor: Int64?
            repeat {
                let page = try await store.events(projectId: "p1", status: nil, conversationId: nil, limit: 4, before: cursor)
                pages.append(page.map(\.event.id))
                cursor = page.count == 4 ? page.last?.sequence : nil
            } while cursor != nil
            #expect(pages == [["c2-3", "c2-2", "c2-1", "c1-3"], ["c1-2", "c1-1"]])
            let inConversation = try await store.events(projectId: "p1", status: nil, conversationId: "c1", limit: 10, before: nil)
            #expect(inConversation.map(\.event.id) == ["c1-3", "c1-2", "c1-1"])
            let firstPage = try await store.events(projectId: "p1", status: nil, conversationId: "c2", limit: 2, before: nil)
            #expect(firstPage.map(\.event.id) == ["c2-3", "c2-2"])
            let nextPage = try await store.events(projectId: "p1", status: nil, conversationId: "c2", limit: 2, before: firstPage.last?.sequence)
            #expect(nextPage.map(\.event.id) == ["c2-1"])
            #expect(try await store.events(projectId: "other", status: nil, conversationId: "c1", limit: 10, before: nil).isEmpty)
            _ = try await Self.claim(store)
            let delivering = try await store.events(projectId: "p1", status: .delivering, conversationId: nil, limit: 10, before: nil)
            #expect(delivering.map(\.event.id) == ["c2-1", "c1-1"])
            let deliveringInC1 = try await store.events(projectId: "p1", status: .delivering, conversationId: "c1", limit: 10, before: nil)
            #expect(deliveringInC1.map(\.event.id) == ["c1-1"])
            let pendingInC1 = try await store.events(projectId: "p1", status: .pending, conversationId: "c1", limit: 10, before: nil)
            #expect(pendingInC1.map(\.event.id) == ["c1-3", "c1-2"])
            #expect(try await store.events(projectId: "other", status: nil, conversationId: nil, limit: 10, before: nil).isEmpty)
            let statistics = try await store.queueStatistics()
            #expect(statistics.depth == 6)
            #expect(statistics.oldestPendingCreatedAt == Self.start)
        }
    }

    /// Many attempts finished at once (PostgreSQL writes them in batches): each is settled, each key's
    /// next event becomes its head, a retried one stays the head.
    @Test(arguments: Backend.allCases)
    func concurrentSettlementsEachMoveTheirKeyOn(backend: Backend) async throws {
        try await Self.withWorld(
            backend, conversations: 16,  // as many as one claim takes for one destination
            events: { conversation in (1...2).map { Self.event("\(conversation)-\($0)", conversation) } }
        ) { stores in
            let store = stores[0]
            let claimed = try await Self.claim(store, limit: 100)
            #expect(claimed.count == 16 && claimed.allSatisfy { $0.id.hasSuffix("-1") })
            let settled = try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, event) in claimed.enumerated() {
                    group.addTask {
                        let at = Self.start.adding(seconds: 1)
                        let outcome: DeliveryOutcome = index % 4 == 0 ? .retry(at: Self.start) : .delivered(at: at)
                        try await store.finishAttempt(Self.attempt(event.id, 1, status: index % 4 == 0 ? 503 : 200), outcome: outcome)
                    }
                }
                try await group.waitForAll()
                return try await store.events(projectId: "p1", status: .delivered, conversationId: nil, limit: 100, before: nil)
            }
            #expect(settled.count == 12)
            // The 12 delivered keys offer their second event; the 4 retried ones their first again.
            let next = try await Self.claim(store, at: Self.start.adding(seconds: 2), limit: 100)
            #expect(next.count == 16)
            #expect(next.filter { $0.id.hasSuffix("-2") }.count == 12 && next.filter { $0.id.hasSuffix("-1") }.count == 4)
        }
    }

    /// The overview's figures: the queue (pending, in flight, held), what settled since a time, the
    /// failed events kept, the last delivery; another project's events never count.
    @Test(arguments: Backend.allCases)
    func deliverySummaryCountsOneProject(backend: Backend) async throws {
        try await Self.withWorld(
            backend, conversations: 4,
            events: { conversation in
                conversation == "c4"
                    ? [Self.event("c4-held", conversation, to: .channel(botId: "b1"))]
                    : (1...2).map { Self.event("\(conversation)-\($0)", conversation) }
            }
        ) { stores in
            let store = stores[0]
            let empty = try await store.deliverySummary(projectId: "other", since: Self.start)
            #expect(
                empty
                    == DeliverySummary(
                        queueDepth: 0, oldestPendingCreatedAt: nil, deliveredSince: 0, failedSince: 0, failedTotal: 0, lastDeliveredAt: nil))
            // c1-1 delivered long ago, c2-1 delivered later, c3-1 failed; c1-2, c2-2, c3-2 pending; c4-held held.
            let times = ["c1-1": Self.start.adding(seconds: 10), "c2-1": Self.start.adding(seconds: 100), "c3-1": Self.start.adding(seconds: 110)]
            for claimed in try await Self.claim(store) where times[claimed.id] != nil {
                let at = times[claimed.id]!
                let outcome: DeliveryOutcome = claimed.id == "c3-1" ? .failed(at: at) : .delivered(at: at)
                try await store.finishAttempt(Self.attempt(claimed.id, 1, status: claimed.id == "c3-1" ? 500 : 200), outcome: outcome)
            }
            let summary = try await store.deliverySummary(projectId: "p1", since: Self.start.adding(seconds: 50))
            #expect(summary.queueDepth == 4)
            #expect(summary.oldestPendingCreatedAt == Self.start)
            #expect(summary.deliveredSince == 1 && summary.failedSince == 1 && summary.failedTotal == 1)
            #expect(summary.lastDeliveredAt == Self.start.adding(seconds: 100))
            let later = try await store.deliverySummary(projectId: "p1", since: Self.start.adding(seconds: 200))
            #expect(later.deliveredSince == 0 && later.failedSince == 0 && later.failedTotal == 1)
        }
    }

    /// Two instances claiming as fast as they can: every event is claimed exactly once, and each
    /// key's events are claimed in order.
    @Test func postgresInstancesShareTheQueueWithoutOverlap() async throws {
        try await Self.withWorld(
            .postgres, instances: 2, conversations: 30,
            events: { conversation in
                (1...4).map { Self.event("\(conversation)-\($0)", conversation) }
            }
        ) { stores in
            final class ClaimLog: Sendable { let ids = Mutex<[String]>([]) }
            let claims = ClaimLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores {
                    group.addTask {
                        var idle = 0
                        while idle < 20 {
                            let claimed = try await Self.claim(store, limit: 7)
                            idle = claimed.isEmpty ? idle + 1 : 0
                            claims.ids.withLock { $0 += claimed.map(\.id) }
                            for event in claimed {
                                try await store.finishAttempt(Self.attempt(event.id, event.attemptCount + 1), outcome: .delivered(at: Self.start))
                            }
                            if claimed.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let claimed = claims.ids.withLock { $0 }
            #expect(claimed.count == 120)
            #expect(Set(claimed).count == 120)
            for index in 1...30 {
                let key = "c\(index)-"
                #expect(claimed.filter { $0.hasPrefix(key) } == (1...4).map { "\(key)\($0)" })
            }
        }
    }

    /// An instance that dies mid-delivery: its lease runs out, another instance takes the event over
    /// with the next attempt number, and the dead instance's late settlement changes nothing.
    @Test func postgresExpiredLeasesAreTakenOverByAnotherInstance() async throws {
        try await Self.withWorld(.postgres, instances: 2, events: { [Self.event("a1", $0), Self.event("a2", $0)] }) { stores in
            let (first, second) = (stores[0], stores[1])
            #expect(try await Self.claim(first, lease: 5).map(\.id) == ["a1"])
            #expect(try await Self.claim(second, at: Self.start.adding(seconds: 4)).isEmpty)
            let takenOver = try await Self.claim(second, at: Self.start.adding(seconds: 6))
            #expect(takenOver.map(\.id) == ["a1"])
            #expect(takenOver.first?.attemptCount == 1)
            #expect(try await store(first, hasStatus: .delivering, "a1"))
            try await first.finishAttempt(Self.attempt("a1", 1), outcome: .delivered(at: Self.start.adding(seconds: 7)))
            #expect(try await store(first, hasStatus: .delivering, "a1"))  // not the lease holder any more
            #expect(try await Self.claim(first, at: Self.start.adding(seconds: 7)).isEmpty)  // a2 still waits behind a1
            try await second.finishAttempt(Self.attempt("a1", 2), outcome: .delivered(at: Self.start.adding(seconds: 8)))
            #expect(try await store(first, hasStatus: .delivered, "a1"))
            #expect(try await first.event(projectId: "p1", id: "a1")?.1.map(\.number) == [1, 2])
            #expect(try await Self.claim(first, at: Self.start.adding(seconds: 8)).map(\.id) == ["a2"])
        }
    }

    private func store(_ store: any RelevoStore, hasStatus status: OutboxEvent.Status, _ id: String) async throws -> Bool {
        try await store.event(projectId: "p1", id: id)?.0.event.status == status
    }

    /// A commit by one instance wakes the dispatcher of another at once (LISTEN/NOTIFY), not at its next poll.
    @Test func postgresCommitsWakeTheOtherInstances() async throws {
        try await Self.withWorld(.postgres, instances: 2) { stores in
            let signal = stores[1].deliverySignal
            // The listener signals once when it starts listening; after that only notifications wake it.
            #expect(await signal.wait(upTo: .seconds(20)))
            while await signal.wait(upTo: .milliseconds(300)) {}
            try await Self.append([Self.event("e1", "c1")], to: stores[0], key: "m1")
            #expect(await signal.wait(upTo: .seconds(20)))
        }
    }

    /// A database written before heads carried their due time: once migrated, a claim hands out the
    /// heads that are due (a pending one, one whose lease ended) and no other, and the next due time
    /// is the earliest of the rest.
    @Test func postgresHeadsWrittenBeforeTheyCarriedTheirDueTimeAreClaimedAsBefore() async throws {
        let url = try await TestPostgres.freshDatabase()
        let old = try await PostgresStore.open(url: url, logger: Logger(label: "test"), migrating: false)
        try await StoreContractTests.closing([old]) {
            try await PostgresMigrations.apply(old.client, logger: Logger(label: "test"), through: "006_batched_records")
            let now = Self.start.millisecondsSince1970
            // id, key, status, next attempt, lease end: two per key, the first its head.
            let rows: [(String, String, String, Int64, Int64?)] = [
                ("due", "k1", "pending", now, nil), ("due-next", "k1", "pending", now, nil),
                ("lease-ended", "k2", "delivering", now, now - 1), ("lease-ended-next", "k2", "pending", now, nil),
                ("leased", "k3", "delivering", now, now + 30_000), ("leased-next", "k3", "pending", now, nil),
                ("held", "k4", "held", now, nil), ("held-next", "k4", "held", now, nil),
                ("later", "k5", "pending", now + 60_000, nil), ("later-next", "k5", "pending", now, nil),
            ]
            for (id, key, status, next, lease) in rows {
                _ = try await old.rows(
                    """
                    INSERT INTO events (id, project_id, destination, ordering_key, conversation_id, event_type, body, status,
                        attempt_count, next_attempt_at, locked_until, lease_owner, created_at)
                    VALUES (\(id), 'p1', 'panel', \(key), \(key), 'message', '\\x7b7d', \(status), \(lease == nil ? 0 : 1), \(next),
                        \(lease), \(lease == nil ? nil : "gone"), \(now))
                    """)
            }
            _ = try await old.rows("INSERT INTO heads (ordering_key, seq) SELECT ordering_key, MIN(seq) FROM events GROUP BY ordering_key")
        }
        let store = try await PostgresStore.open(url: url, logger: Logger(label: "test"))
        try await StoreContractTests.closing([store]) {
            let claimed = try await store.claimDueEvents(
                now: Self.start, leaseUntil: Self.start.adding(seconds: 120), limit: 10,
                slots: DestinationSlots(maximumPerDestination: 16))
            #expect(claimed.map(\.id) == ["due", "lease-ended"])
            #expect(try await store.nextDueTime(after: Self.start) == Self.start.adding(seconds: 30))
        }
    }

    /// A database written while a lease set an event's status to `delivering`: once migrated, leased
    /// events still read as `delivering`, the lease holder still settles its event, an ended lease is
    /// claimed again, and a live one is not.
    @Test func postgresEventsLeasedBeforeLeasesWereWrittenInPlaceSettleAsBefore() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try await PostgresStore.open(url: url, logger: Logger(label: "test"), migrating: false)
        try await StoreContractTests.closing([store]) {
            try await PostgresMigrations.apply(store.client, logger: Logger(label: "test"), through: "007_claimable_heads")
            let now = Self.start.millisecondsSince1970
            // id, key, status, lease end, lease owner.
            let rows: [(String, String, String, Int64?, String?)] = [
                ("leased", "k1", "delivering", now + 30_000, store.instanceId), ("leased-next", "k1", "pending", nil, nil),
                ("lease-ended", "k2", "delivering", now - 1, "gone"), ("due", "k3", "pending", nil, nil),
            ]
            for (id, key, status, lease, owner) in rows {
                _ = try await store.rows(
                    """
                    INSERT INTO events (id, project_id, destination, ordering_key, conversation_id, event_type, body, status,
                        attempt_count, next_attempt_at, locked_until, lease_owner, created_at)
                    VALUES (\(id), 'p1', 'panel', \(key), \(key), 'message', '\\x7b7d', \(status), \(lease == nil ? 0 : 1), \(now),
                        \(lease), \(owner), \(now))
                    """)
            }
            _ = try await store.rows("SELECT relevo_refresh_heads(ARRAY['k1', 'k2', 'k3'])")
            try await PostgresMigrations.apply(store.client, logger: Logger(label: "test"))

            let delivering = try await store.events(projectId: "p1", status: .delivering, conversationId: nil, limit: 10, before: nil)
            #expect(delivering.map(\.event.id) == ["lease-ended", "leased"])
            let pending = try await store.events(projectId: "p1", status: .pending, conversationId: nil, limit: 10, before: nil)
            #expect(pending.map(\.event.id) == ["due", "leased-next"])
            #expect(try await store.event(projectId: "p1", id: "leased")?.0.event.status == .delivering)

            let claimed = try await Self.claim(store)
            #expect(claimed.map(\.id) == ["lease-ended", "due"])
            #expect(claimed.map(\.attemptCount) == [1, 0])
            try await store.finishAttempt(Self.attempt("leased", 1), outcome: .delivered(at: Self.start))
            #expect(try await store.event(projectId: "p1", id: "leased")?.0.event.status == .delivered)
            #expect(try await Self.claim(store).map(\.id) == ["leased-next"])
        }
    }

    /// Instances starting together on an empty database: one applies the migrations, the others wait for it.
    @Test func postgresInstancesStartingAtOnceMigrateOnce() async throws {
        let url = try await TestPostgres.freshDatabase()
        // Every attempt is waited for, so that the stores that did open are closed even when another failed to.
        let opened = await withTaskGroup(of: Result<PostgresStore, any Error>.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    do { return .success(try await PostgresStore.open(url: url, logger: Logger(label: "test"))) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let stores = opened.compactMap { try? $0.get() }
        try await StoreContractTests.closing(stores) {
            for attempt in opened { _ = try attempt.get() }
            let applied = try await stores[0].rows("SELECT id FROM relevo_migrations").map { try $0[0].decode(String.self) }
            #expect(applied == PostgresMigrations.all.map(\.id))
        }
    }
}
