import Foundation
import Testing

@testable import Relevo

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Off-the-shelf verifiers accept every event: a Node.js panel verifying as Jelou's docs show
/// (JSON.stringify of the parsed body, timingSafeEqual) and Python's `standardwebhooks` package.
@Suite("Interop with panel-side verifiers", .serialized)
struct InteropTests {
    /// `node Tests/Interop/panel.mjs`, talking HTTP on a port it picks.
    final class NodePanel: @unchecked Sendable {
        // Written once in init, then only read.
        let process = Process()
        let port: Int

        init() throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Interop/panel.mjs")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["node", script.path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
                line.append(byte)
            }
            guard case .number(let number)? = try JSONParser.parse(Array(line))["port"] else {
                throw ServerError(description: "the Node panel did not start: \(String(decoding: line, as: UTF8.self))")
            }
            port = Int(number)
        }

        var url: String { "http://127.0.0.1:\(port)/hook" }

        func post(_ path: String, _ body: String) async throws -> String {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = path.hasSuffix("results") ? "GET" : "POST"
            if request.httpMethod == "POST" { request.httpBody = Data(body.utf8) }
            return String(decoding: try await URLSession.shared.data(for: request).0, as: UTF8.self)
        }

        func configure(jelou: String, standard: [String]) async throws {
            let list = standard.map { "\"\(WebhookSignature.standardSecret($0))\"" }.joined(separator: ",")
            _ = try await post("/control/secrets", #"{"jelou":"\#(jelou)","standard":[\#(list)]}"#)
        }

        func results() async throws -> [JSONValue] {
            guard case .array(let items) = try JSONParser.parse(try await post("/control/results", "")) else { return [] }
            return items
        }

        func stop() {
            if process.isRunning { process.terminate() }
        }
    }

    @Test(arguments: StoreContractTests.Backend.allCases)
    func nodeAndStandardWebhooksVerifiersAcceptAWholeConversationAcrossARegeneration(backend: StoreContractTests.Backend) async throws {
        let panel = try await offThread { try NodePanel() }
        defer { panel.stop() }
        let world = try await ConversationFlowTests.World.make(backend)
        defer { world.tearDown() }
        // The integration points at the Node panel instead of the plain receiver.
        let created = try await world.server.data(
            "POST", world.base, key: world.key,
            body: """
                {"webhookUrl":"\(panel.url)","authType":"api_key","authorization":"k-1"}
                """)
        let first = try #require(created["signingSecret"]?.stringValue)
        try await panel.configure(jelou: first, standard: [first])
        _ = try await world.server.data(
            "POST", "/v1/projects/\(world.projectId)/bots", key: world.key, body: #"{"id":"bot-1","name":"Bot / \"uno\""}"#)
        _ = try await world.server.data("PUT", "/v1/projects/\(world.projectId)/users/user-1", key: world.key, body: #"{"names":"Zoë 😀"}"#)
        _ = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: """
                {"botId":"bot-1","userId":"user-1","initialMessage":"línea\\nnueva","metadata":{"b":1.50,"10":[1e21,-0,0.1],"a/b":"\\u0001"}}
                """)
        _ = try await world.channelMessage(#"{"id":"i-1","type":"text","content":{"body":"tab\there \"quoted\" </script>"}}"#)
        _ = try await world.channelMessage(
            #"{"id":"i-2","type":"video","content":{"url":"https://cdn.example.com/v.mp4?x=1&y=2","mime_type":"video/mp4","caption":"ü"}}"#)

        // Events are signed when sent: let the first three arrive before the secret changes.
        for _ in 0..<200 where try await panel.results().count < 3 { try await Task.sleep(for: .milliseconds(25)) }
        // Regenerate with a grace period: the panel updates its Jelou secret; a Standard Webhooks
        // verifier still holding the old secret keeps working, and one with the new secret works too.
        let regenerated = try await world.server.data(
            "POST", world.base + "/secret/regenerate", key: world.key,
            body: #"{"graceSeconds":600}"#)
        let second = try #require(regenerated["signingSecret"]?.stringValue)
        try await panel.configure(jelou: second, standard: [first, second])
        _ = try await world.channelMessage(#"{"id":"i-3","type":"audio","content":{"url":"https://cdn.example.com/a.ogg","mime_type":"audio/ogg"}}"#)
        _ = try await world.server.data(
            "POST", world.base + "/conversations/close", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1","redirectPayload":{"type":"edge","edgeId":"node-1"}}"#)

        var results: [JSONValue] = []
        for _ in 0..<400 {
            results = try await panel.results()
            if results.count >= 5 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(results.count == 5)
        #expect(results.map { $0["type"] ?? .null } == ["conversation.start", "message", "message", "message", "conversation.close"])
        for result in results {
            #expect(result["jelou"] == true, "\(result)")
            #expect(result["standard"] == true, "\(result)")
        }
    }
}
