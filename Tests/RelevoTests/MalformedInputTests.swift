import Foundation
import HTTPTypes
import Testing

@testable import Relevo

/// Whatever arrives, the answer is the envelope with a 4xx — never a 500, never a crash.
@Suite("Malformed input never breaks the server")
struct MalformedInputTests {
    /// Bodies a careless or hostile client might send.
    static func bodies() -> [String] {
        var generator = SystemRandomNumberGenerator()
        var bodies = [
            "", "null", "[]", "{}", "\"x\"", "1e400", "{\"a\":", String(repeating: "{\"a\":", count: 40),
            #"{"botId":null,"userId":{},"value":[]}"#, #"{"botId":"b1","userId":"u1","value":{"id":"","type":"text","content":{"body":null}}}"#,
            #"{"botId":"b1","userId":"u1","value":{"id":"x","type":"image","content":{"url":"https://[::1","mime_type":"/"}}}"#,
            #"{"webhookUrl":"https://\u0000/","authType":"bearer","authorization":"\u0000"}"#,
            #"{"metadata":{"__proto__":{"a":1}},"botId":"b1","userId":"u1","assignment":{"type":"queue","target":""}}"#,
            #"{"field":"messages","project_id":{"$ne":null}}"#, #"{"project_id":"' OR 1=1 --"}"#,
            #"{"graceSeconds":1e308}"#, #"{"graceSeconds":-0}"#, #"{"names":"\ud83d\ude00","referenceId":12}"#,
            #"{"channelWebhookUrl":"https://%30%78%37%66%2e%31/"}"#,
        ]
        for _ in 0..<40 {
            let length = Int.random(in: 1..<200, using: &generator)
            bodies.append(String(decoding: (0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }, as: UTF8.self))
        }
        return bodies
    }

    @Test func everyRouteAnswersBadBodiesWithAClientError() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await ConversationErrorTests.prepared(api)
            let p = harness.projectId
            let routes: [(HTTPRequest.Method, String)] = [
                (.post, "/v1/external-support/\(p)"), (.patch, "/v1/external-support/\(p)"),
                (.post, "/v1/external-support/\(p)/secret/regenerate"),
                (.post, "/v1/external-support/\(p)/conversations/start"), (.post, "/v1/external-support/\(p)/conversations/close"),
                (.post, "/v1/projects/\(p)/bots"), (.patch, "/v1/projects/\(p)/bots/b1"), (.put, "/v1/projects/\(p)/users/u9"),
                (.post, "/v1/projects/\(p)/channel/messages"), (.post, "/v1/external-support/webhook"),
            ]
            for (method, path) in routes {
                for body in Self.bodies() {
                    let reply = try await api.call(method, path, body: body)
                    #expect(reply.status.code < 500, "\(method) \(path) \(body.prefix(60)) → \(reply.status.code)")
                    if reply.status.code >= 400 {
                        #expect(reply.json["statusMessage"] == "failed", "\(method) \(path) \(body.prefix(60))")
                    }
                }
            }
            // The server still works afterwards.
            #expect(await api.statusOf(.get, "/v1/external-support/\(p)") == .ok)
        }
    }

    /// A body sent without a length (chunked) is cut off at the limit like a declared one: 413, not a 500.
    @Test func aChunkedBodyPastTheLimitIs413() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-chunked-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeTemporaryDirectory(directory) }  // after the server's stop below
        let server = try ServerProcess(arguments: ["--database", "sqlite://\(directory.path)/relevo.sqlite"], directory: directory)
        defer { server.stop() }
        try await server.waitUntilListening()
        let projectId = try #require(server.banner("projectId")), key = try #require(server.banner("x-api-key"))
        func chunked(_ path: String, _ body: String) -> [UInt8] {
            var request =
                "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-api-key: \(key)\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            var rest = Substring(body)
            while !rest.isEmpty {
                let chunk = rest.prefix(16 * 1024)
                request += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n"
                rest = rest.dropFirst(chunk.count)
            }
            return Array((request + "0\r\n\r\n").utf8)
        }
        let big = #"{"pad":""# + String(repeating: "x", count: 300 * 1024) + #""}"#
        for path in ["/v1/external-support/webhook", "/v1/projects/\(projectId)/channel/messages", "/v1/external-support/\(projectId)"] {
            let answer = try await server.rawExchange(chunked(path, big))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(path): \(answer.prefix(200))")
            #expect(answer.contains(#""PAYLOAD_TOO_LARGE""#), "\(path)")
        }
        // Under the limit, the same encoding is read normally (here: a validation error, not a size error).
        let small = try await server.rawExchange(chunked("/v1/projects/\(projectId)/channel/messages", #"{"pad":"x"}"#))
        #expect(small.hasPrefix("HTTP/1.1 422") || small.hasPrefix("HTTP/1.1 400"), "\(small.prefix(200))")
        #expect(try await server.request("GET", "/health").0 == 200)
    }

    /// A body compressed in transit or as content is refused by name, not parsed as garbage JSON (400)
    /// nor, worse, taken as the plain chunked body it is not.
    @Test func codingsRelevoDoesNotDecodeAreRefusedByName() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let application = try harness.app.buildApplication(withDelivery: false)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/projects/\(harness.projectId)/channel/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nx-api-key: \(harness.apiKey)\r\nConnection: close\r\n"
            let body = #"{"botId":"b","userId":"u","value":{"id":"m1","type":"text","content":{"body":"hi"}}}"#
            let chunk = String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"

            let gzipChunked = try await rawHTTPExchange(port: port, bytes: Array((head + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunk).utf8))
            #expect(gzipChunked.answer.hasPrefix("HTTP/1.1 501"), "\(gzipChunked.answer.prefix(200))")
            #expect(gzipChunked.answer.contains(#""key":"NOT_IMPLEMENTED""#))
            #expect(gzipChunked.answer.contains("Transfer-Encoding gzip, chunked is not supported"))

            let gzipped = try await rawHTTPExchange(
                port: port, bytes: Array((head + "Content-Encoding: gzip\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body).utf8))
            #expect(gzipped.answer.hasPrefix("HTTP/1.1 415"), "\(gzipped.answer.prefix(200))")
            #expect(gzipped.answer.contains("Content-Encoding gzip is not supported"))

            // A header sent twice is read as its values together: the second field counts as much as the first.
            let twice = try await rawHTTPExchange(
                port: port,
                bytes: Array(
                    (head + "Content-Encoding: identity\r\nContent-Encoding: gzip\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body).utf8))
            #expect(twice.answer.hasPrefix("HTTP/1.1 415"), "\(twice.answer.prefix(200))")
            #expect(twice.answer.contains("Content-Encoding identity, gzip is not supported"))

            // Plain chunked, in any case, and `identity` (or no coding named) are read as usual (here: no
            // such bot, 404).
            let length = "Content-Length: \(body.utf8.count)\r\n\r\n" + body
            for framing in [
                "Transfer-Encoding: Chunked\r\n\r\n" + chunk, "Content-Encoding: identity\r\n" + length,
                "Content-Encoding: , IDENTITY\r\n" + length, "Content-Encoding:\r\n" + length,
            ] {
                let plain = try await rawHTTPExchange(port: port, bytes: Array((head + framing).utf8))
                #expect(plain.answer.hasPrefix("HTTP/1.1 404"), "\(plain.answer.prefix(200))")
            }
        }
    }

    /// A request that stops halfway (fewer body bytes than its `Content-Length`) does not hold the
    /// connection forever: it is closed after the idle timeout, and the server goes on serving.
    @Test func aRequestCutShortIsClosedAfterTheIdleTimeout() async throws {
        let harness = try await Harness.make { $0.idleTimeout = .milliseconds(300) }
        defer { harness.removeFiles() }
        let application = try harness.app.buildApplication(withDelivery: false)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            let partial =
                "POST /v1/projects/\(harness.projectId)/channel/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nx-api-key: \(harness.apiKey)\r\nContent-Length: 100\r\n\r\n{\"botId\":"
            let cut = try await rawHTTPExchange(port: port, bytes: Array(partial.utf8))
            #expect(cut.closed, "still open after 5 s: \(cut.answer.prefix(200))")
            // (The test client's own idle connection is closed too: ask on a new one.)
            let health = try await rawHTTPExchange(port: port, bytes: Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            #expect(health.answer.hasPrefix("HTTP/1.1 200"), "\(health.answer.prefix(200))")
        }
        // The client's doing: not logged as an unexpected error of the server's.
        #expect(!harness.logs.all.contains { $0.contains("unexpected error") }, "\(harness.logs.all.filter { $0.contains("error") })")
    }
}
