// Pipeline cost without HTTP: where the CPU of one event goes when no socket is involved.
//
// 500 active conversations on a new SQLite file (synchronous=FULL); 64 concurrent tasks send 40 000
// channel messages through `ConversationService.receiveFromChannel` (the work of POST
// /channel/messages minus HTTP: validation, the context read, the payload, the group-committed
// write); then the dispatcher's store side, claims of 64 and one settlement per event, without
// calling a panel. Prints CPU time (user + system) per event for each half and the rate reached.
// Compare with Benchmarks/delivery.sh's whole pipeline to see what HTTP in and out costs.
// With PANEL_URL (a running Benchmarks/panel.mjs, e.g. http://127.0.0.1:PORT/hook) it also measures
// the outbound half alone: WebhookClient POSTing event-sized bodies, 16 at a time, against AsyncHTTPClient
// as the baseline, in the same run.
//
//     swift build -c release --package-path Benchmarks --scratch-path .build-bench-tools -Xswiftc -enable-testing --product relevo-pipeline-cost && .build-bench-tools/release/relevo-pipeline-cost     Env: EVENTS, MODE=accept|sender, PANEL_URL,
//     BASELINE=0 (sender without the AsyncHTTPClient runs, for profiling)
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

@testable import Relevo

@main
struct PipelineCost {
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec)
            / 1e6
    }

    /// One line: how many, CPU per item since `cpu`, and the rate since `clock`.
    static func report(_ phase: String, count: Int, unit: String, cpu: Double, since clock: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "\(phase): \(count) \(unit), "
                + String(
                    format: "%.1f us CPU each, %.0f/s", (cpuSeconds() - cpu) * 1e6 / Double(count),
                    Double(count) / seconds))
    }

    static func main() async throws {
        let total = Int(ProcessInfo.processInfo.environment["EVENTS"] ?? "40000")!
        let mode = ProcessInfo.processInfo.environment["MODE"] ?? "both"
        let panel = ProcessInfo.processInfo.environment["PANEL_URL"]
        if mode == "sender", let panel { return try await measureSender(panel: panel, total: total) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-pipe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = RelevoConfiguration()
        configuration.databaseURL = "sqlite://" + directory.appendingPathComponent("relevo.sqlite").path
        configuration.allowInsecureWebhooks = true
        configuration.logLevel = .error
        let app = try await RelevoApp(configuration: configuration)
        let project = try await app.projects.createProject(name: "bench").projectId
        _ = try await app.integrations.create(projectId: project, input: IntegrationInput(webhookUrl: "http://127.0.0.1:9/hook"))
        _ = try await app.bots.createBot(projectId: project, BotService.NewBot(id: "bench-bot", name: "B", channelWebhookUrl: nil))
        let conversations = 500
        for c in 0..<conversations {
            _ = try await app.bots.upsertUser(projectId: project, id: "u\(c)", names: "x", referenceId: nil)
            _ = try await app.conversations.start(
                projectId: project,
                ConversationStart(
                    botId: "bench-bot", userId: "u\(c)", initialMessage: nil, metadata: nil, assignment: nil))
        }
        let counter = Counter()
        // Accept.
        var cpu = cpuSeconds(), clock = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    while true {
                        let n = counter.next()
                        if n >= total { return }
                        let c = (n * 7919 + worker) % conversations
                        // Read as the controller reads it: parsed, then every field checked.
                        let message = try ConversationController.channelMessage(
                            FieldReader(
                                try JSONParser.parse(
                                    #"{"botId":"bench-bot","userId":"u\#(c)","value":{"id":"m\#(n)","type":"text","content":{"body":"benchmark message m\#(n)"}}}"#
                                )))
                        _ = try await app.conversations.receiveFromChannel(projectId: project, message)
                    }
                }
            }
            try await group.waitForAll()
        }
        report("accept", count: total, unit: "messages", cpu: cpu, since: clock)
        if mode == "accept" { return }
        // Claim + settle as delivered.
        cpu = cpuSeconds(); clock = ContinuousClock.now
        var settled = 0
        let slots = DestinationSlots(maximumPerDestination: 64)
        while settled < total + conversations {
            let now = Timestamp.now()
            let claimed = try await app.store.claimDueEvents(now: now, leaseUntil: now, limit: 64, slots: slots)
            if claimed.isEmpty { break }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for event in claimed {
                    group.addTask {
                        let attempt = DeliveryAttempt(
                            eventId: event.id, number: 1, startedAt: now, durationMilliseconds: 1, statusCode: 200, errorClass: nil,
                            responseBody: "ok")
                        try await app.store.finishAttempt(attempt, outcome: .delivered(at: Timestamp.now()))
                    }
                }
                try await group.waitForAll()
            }
            settled += claimed.count
        }
        report("claim+settle", count: settled, unit: "events", cpu: cpu, since: clock)
        try await app.store.close()
        if let panel { try await measureSender(panel: panel, total: total) }
    }

    /// CPU per POST of the outbound client alone, against a live panel: Relevo's WebhookClient, and
    /// AsyncHTTPClient as the baseline measured in the same run, twice each, alternating.
    static func measureSender(panel: String, total: Int) async throws {
        let url = try WebhookURL.parse(panel, allowHTTP: true)
        let body = Array(String(repeating: "x", count: 600).utf8)
        let headers = [("Content-Type", "application/json"), ("webhook-id", "evt_0"), ("webhook-timestamp", "0")]
        let client = try WebhookClient(destinationGuard: DestinationGuard(allowInsecure: true))
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        let baseline = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let withBaseline = ProcessInfo.processInfo.environment["BASELINE"] != "0"
        for _ in 0..<2 {
            if withBaseline {
                try await postConcurrently("sender (AsyncHTTPClient, baseline)", total: total) {
                    // The futures API with a delegate collecting the answer on the event loop.
                    let request = try HTTPClient.Request(
                        url: panel, method: .POST, headers: HTTPHeaders(headers), body: .byteBuffer(ByteBuffer(bytes: body)))
                    let response: HTTPClient.Response = try await baseline.execute(request: request, deadline: .now() + .seconds(15)).get()
                    return Int(response.status.code)
                }
            }
            try await postConcurrently("sender (WebhookClient)", total: total) {
                try await client.post(url, headers: headers, body: body, timeout: .seconds(15)).status
            }
        }
        try await baseline.shutdown()
        await client.shutdown()
    }

    /// `total` POSTs, 16 at a time.
    static func postConcurrently(_ name: String, total: Int, post: @escaping @Sendable () async throws -> Int) async throws {
        let counter = Counter()
        let cpu = cpuSeconds(), clock = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while counter.next() < total {
                        let status = try await post()
                        precondition(status == 200, "panel answered \(status)")
                    }
                }
            }
            try await group.waitForAll()
        }
        report(name, count: total, unit: "POSTs", cpu: cpu, since: clock)
    }
}

/// Hands out message numbers to the sending tasks.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
