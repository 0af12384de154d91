import Foundation
import Testing

@testable import Relevo

@Suite("Delivery fairness", .serialized)
struct DeliveryFairnessTests {
    /// One panel that never answers (in time) and one that answers at once: the second one's events
    /// keep flowing, because attempts in flight are bounded per destination (set here to 8 by the
    /// operator's setting, below the 40 conversations waiting).
    @Test func aHangingPanelDoesNotStarveAnother() async throws {
        var world = try await ConversationFlowTests.World.make(settings: ["RELEVO_MAX_IN_FLIGHT_PER_DESTINATION": "8"])
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(after: .seconds(20))  // longer than the 15 s delivery timeout

        // Project B with its own fast panel, created from the CLI next to the running server.
        let fast = WebhookReceiver()
        try await fast.start()
        defer { fast.stop() }
        let created = try await RelevoBinary.run([
            "projects", "create", "--name", "B", "--id", "project-b",
            "--database", "sqlite://\(world.directory.path)/relevo.sqlite",
        ])
        let keyB = try #require(try JSONParser.parse(created.stdout.trimmingCharacters(in: .newlines))["apiKey"]?.stringValue)
        let baseB = "/v1/external-support/project-b"
        _ = try await world.server.data("POST", baseB, key: keyB, body: #"{"webhookUrl":"\#(fast.url)"}"#)
        _ = try await world.server.data("POST", "/v1/projects/project-b/bots", key: keyB, body: #"{"id":"bb","name":"B bot"}"#)

        // Project A: 40 conversations, each with a start event stuck at the hanging panel.
        for index in 0..<40 {
            _ = try await world.server.data("PUT", "/v1/projects/\(world.projectId)/users/a\(index)", key: world.key, body: #"{"names":"A"}"#)
            _ = try await world.server.data(
                "POST", world.base + "/conversations/start", key: world.key,
                body: #"{"botId":"bot-1","userId":"a\#(index)"}"#)
        }
        try await Task.sleep(for: .milliseconds(300))
        // Project B: 10 conversations, answered at once.
        for index in 0..<10 {
            _ = try await world.server.data("PUT", "/v1/projects/project-b/users/b\(index)", key: keyB, body: #"{"names":"B"}"#)
            _ = try await world.server.data("POST", baseB + "/conversations/start", key: keyB, body: #"{"botId":"bb","userId":"b\#(index)"}"#)
        }
        let delivered = await fast.waitForAccepted(10, timeout: .seconds(5))
        defer { world.server.kill() }  // no need to wait out the hanging attempts
        #expect(delivered.count == 10)
        // Waiting on a hanging panel costs no CPU: the dispatcher sleeps until an attempt ends or a retry is due.
        let cpuBefore = Self.cpuTicks(of: world.server.process.processIdentifier)
        try await Task.sleep(for: .seconds(1))
        let cpuAfter = Self.cpuTicks(of: world.server.process.processIdentifier)
        #expect(cpuAfter - cpuBefore < 30, "the server used \(cpuAfter - cpuBefore) ticks of CPU in one idle second")
        // And the hanging panel got exactly the per-destination bound in flight, no more.
        #expect(world.panel.arrivals == 8)
    }

    /// User + system CPU time of a process, in clock ticks (1/100 s), from /proc.
    static func cpuTicks(of pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)  // utime, stime (fields 14 and 15 of the line)
    }
}
