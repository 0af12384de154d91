import Foundation
import Testing

@testable import Relevo

/// U+0000 is valid JSON (`"\u0000"`), but PostgreSQL's `text` cannot hold it: names kept as text
/// refuse it with a 422 naming the field, on both stores alike (rather than a 500 on PostgreSQL and a
/// name cut short on SQLite), while text that travels inside JSON (a message, metadata) keeps it.
@Suite("The NUL character")
struct NulCharacterTests {
    @Test(arguments: StoreContractTests.Backend.allCases)
    func namesRefuseItAndMessagesKeepIt(backend: StoreContractTests.Backend) async throws {
        var world = try await ConversationFlowTests.World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        let project = "/v1/projects/\(world.projectId)"
        let refused: [(method: String, path: String, body: String, field: String)] = [
            ("PUT", project + "/users/u2", #"{"names":"a\u0000b"}"#, "names"),
            ("PUT", project + "/users/u2", #"{"names":"a","referenceId":"r\u0000"}"#, "referenceId"),
            ("POST", project + "/bots", #"{"id":"bot-2","name":"B\u0000"}"#, "name"),
            (
                "POST", project + "/channel/messages",
                #"{"botId":"bot-1","userId":"user-1","userName":"N\u0000","value":{"id":"m1","type":"text","content":{"body":"x"}}}"#, "userName"
            ),
            ("PATCH", world.base, #"{"authType":"bearer","authorization":"t\u0000"}"#, "authorization"),
            ("PATCH", world.base, #"{"authType":"api_key","authorization":"k\u001b[0m"}"#, "authorization"),
        ]
        for probe in refused {
            let (status, text) = try await world.server.request(probe.method, probe.path, key: world.key, body: probe.body)
            #expect(status == (probe.method == "PATCH" ? 400 : 422), "\(probe.body): \(status) \(text.prefix(200))")
            #expect(text.contains(#""\#(probe.field)":[{"en":"\#(probe.field) must not contain"#), "\(probe.body): \(text.prefix(300))")
        }
        // Inside JSON, NUL is just another character: the conversation and the message go through.
        let started = try await world.server.request(
            "POST", world.base + "/conversations/start", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1","initialMessage":"hi\u0000","metadata":{"k\u0000":"v\u0000"}}"#)
        #expect(started.0 == 200, "\(started.1.prefix(300))")
        let message = try await world.server.request(
            "POST", project + "/channel/messages", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1","value":{"id":"m2","type":"text","content":{"body":"x\u0000y"}}}"#)
        #expect(message.0 == 200, "\(message.1.prefix(300))")
        let arrived = await world.panel.waitForAccepted(2)
        #expect(arrived.last?.text.contains(#""body":"x\u0000y""#) == true, "\(arrived.last?.text ?? "nothing")")
    }
}
