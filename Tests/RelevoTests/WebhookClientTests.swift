import Foundation
import NIOSSL
import Testing

@testable import Relevo

/// What an attempt records when the panel misbehaves at the HTTP level, through the client Relevo
/// sends with, against a real server on loopback (§5.2).
@Suite("Outbound HTTP client", .serialized)
struct WebhookClientTests {
    static let body = Array(#"{"event":"message"}"#.utf8)

    /// A client for loopback servers (the development flag's address rule).
    static func makeClient(tls: TLSConfiguration = .makeClientConfiguration()) throws -> WebhookClient {
        try WebhookClient(destinationGuard: DestinationGuard(allowInsecure: true), tls: tls)
    }

    /// One POST to `server`, with `client` or else a new client shut down afterwards.
    static func post(_ server: ScriptedHTTPServer, url: String? = nil, timeout: Duration = .seconds(5), client: WebhookClient? = nil)
        async throws -> WebhookSender.Result
    {
        let own = client == nil ? try makeClient() : nil
        let sender = WebhookSender(client: try #require(client ?? own), timeout: timeout)
        let result = await sender.post(
            url: try WebhookURL.parse(url ?? server.url, allowHTTP: true),
            headers: [("Content-Type", "application/json")], body: body)
        await own?.shutdown()
        return result
    }

    @Test func aPanelThatNeverAnswersIsATimeout() async throws {
        let server = try await ScriptedHTTPServer(script: [.hang])
        let result = try await Self.post(server, timeout: .milliseconds(200))
        await server.stop()
        #expect(result == .init(statusCode: nil, errorClass: "timeout", responseBody: nil))
    }

    @Test func closingWithoutAnAnswerIsConnectionClosed() async throws {
        let server = try await ScriptedHTTPServer(script: [.close])
        let result = try await Self.post(server)
        await server.stop()
        #expect(result == .init(statusCode: nil, errorClass: "connection_closed", responseBody: nil))
    }

    @Test func garbageInsteadOfHTTPIsAnInvalidResponse() async throws {
        let server = try await ScriptedHTTPServer(script: [.answer("hello there\r\n\r\n")])
        let result = try await Self.post(server)
        await server.stop()
        #expect(result.errorClass == "invalid_response" && result.statusCode == nil)
    }

    /// A stored credential with a line break would end its header early and add headers of its own:
    /// the POST is refused before any byte is sent, and the attempt says why.
    @Test func aHeaderValueWithALineBreakIsNeverSent() async throws {
        let server = try await ScriptedHTTPServer(script: [.answer(ScriptedHTTPServer.ok())])
        let client = try Self.makeClient()
        let sender = WebhookSender(client: client, timeout: .seconds(5))
        let url = try WebhookURL.parse(server.url, allowHTTP: true)
        let refused = await sender.post(url: url, headers: [("Authorization", "Bearer abc\r\nX-Injected: 1")], body: Self.body)
        let accepted = await sender.post(url: url, headers: [("Authorization", "Bearer abc\tdef")], body: Self.body)
        await client.shutdown()
        await server.stop()
        #expect(refused == .init(statusCode: nil, errorClass: "invalid_credential", responseBody: nil))
        #expect(accepted.statusCode == 200)
        #expect(server.requests == 1)
    }

    /// A connection keeps one deadline timer across its exchanges: an exchange answered within its
    /// own deadline is never cut by an earlier exchange's, and one that hangs still ends at its own.
    @Test func eachExchangeOnAReusedConnectionEndsAtItsOwnDeadline() async throws {
        let server = try await ScriptedHTTPServer(script: [
            .answer(ScriptedHTTPServer.ok()), .answerLater(ScriptedHTTPServer.ok(), after: .milliseconds(1500)), .hang,
        ])
        let client = try Self.makeClient()
        // A deadline a loaded machine still meets for the first exchange (it opens the connection),
        // which the slow exchange then outlives.
        let first = try await Self.post(server, timeout: .seconds(1), client: client)
        let slow = try await Self.post(server, timeout: .seconds(10), client: client)  // past the first one's deadline
        let started = ContinuousClock.now
        let hung = try await Self.post(server, timeout: .milliseconds(300), client: client)
        let waited = ContinuousClock.now - started
        await client.shutdown()
        await server.stop()
        #expect(first.statusCode == 200 && slow.statusCode == 200)
        #expect(hung.errorClass == "timeout")
        #expect(waited < .seconds(5), "ended at the previous exchange's deadline (10 s), not its own (0.3 s)")
        #expect(server.connections == 1)
    }

    @Test func onlyTheFirst4KiBOfABodyAreKeptAndTheConnectionIsReused() async throws {
        let big = String(repeating: "a", count: 10_000)
        let server = try await ScriptedHTTPServer(script: [.answer(ScriptedHTTPServer.ok(big, status: "500 Internal Server Error"))])
        let client = try Self.makeClient()
        let first = try await Self.post(server, client: client)
        let second = try await Self.post(server, client: client)
        await client.shutdown()
        await server.stop()
        #expect(first == .init(statusCode: 500, errorClass: "http_status", responseBody: String(repeating: "a", count: 4096)))
        #expect(second.statusCode == 200)
        #expect(server.requests == 2 && server.connections == 1)
    }

    @Test func interimAnswersAreSkipped() async throws {
        let server = try await ScriptedHTTPServer(script: [.answer("HTTP/1.1 100 Continue\r\n\r\n" + ScriptedHTTPServer.ok())])
        let result = try await Self.post(server)
        await server.stop()
        #expect(result == .init(statusCode: 200, errorClass: nil, responseBody: #"{"ok":true}"#))
    }

    @Test func aBodyThatEndsWithTheConnectionIsKept() async throws {
        let server = try await ScriptedHTTPServer(script: [.answerAndClose("HTTP/1.1 202 Accepted\r\n\r\nqueued"), .answer(ScriptedHTTPServer.ok())])
        let client = try Self.makeClient()
        let first = try await Self.post(server, client: client)
        let second = try await Self.post(server, client: client)
        await client.shutdown()
        await server.stop()
        #expect(first == .init(statusCode: 202, errorClass: nil, responseBody: "queued"))
        #expect(second.statusCode == 200 && server.connections == 2)
    }

    @Test func retryAfterIsReadOn429() async throws {
        let server = try await ScriptedHTTPServer(script: [
            .answer(ScriptedHTTPServer.ok("{}", status: "429 Too Many Requests", extraHeaders: "Retry-After: 7\r\n"))
        ])
        let result = try await Self.post(server)
        await server.stop()
        #expect(result.statusCode == 429 && result.retryAfter == .seconds(7))
    }

    /// `Connection: close` is honoured, a dropped idle connection is not used again, and a reused
    /// connection that closes instead of answering is not reported as a failure: the POST goes out
    /// again on a new connection (a fresh one that does the same is `connection_closed`, above).
    @Test func closedConnectionsAreNotReused() async throws {
        let server = try await ScriptedHTTPServer(script: [
            .answer(ScriptedHTTPServer.ok(extraHeaders: "Connection: close\r\n")),  // connection 1
            .answerAndClose(ScriptedHTTPServer.ok()),  // connection 2: says keep-alive, then drops it
            .answer(ScriptedHTTPServer.ok()),  // connection 3, kept
            .close,  // connection 3 again: closed instead of answering…
            .answer(ScriptedHTTPServer.ok()),  // …so the same POST on connection 4
        ])
        let client = try Self.makeClient()
        var statuses: [Int?] = []
        for _ in 0..<4 {
            statuses.append(try await Self.post(server, client: client).statusCode)
            try await Task.sleep(for: .milliseconds(50))  // lets a dropped connection's close arrive first
        }
        await client.shutdown()
        await server.stop()
        #expect(statuses == [200, 200, 200, 200])
        #expect(server.requests == 5 && server.connections == 4)
    }

    /// HTTPS with full verification: a panel whose certificate chains to a trusted root answers; the
    /// same panel is refused (`tls`, nothing sent) by a client that does not trust that root.
    @Test func httpsIsVerified() async throws {
        let certificate = try NIOSSLCertificate(bytes: Array(TestCertificates.server.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(TestCertificates.serverKey.utf8), format: .pem)
        let serverTLS = try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let server = try await ScriptedHTTPServer(script: [], tls: serverTLS)
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(TestCertificates.authority.utf8), format: .pem)])
        let trusted = try await Self.post(server, client: try Self.makeClient(tls: trusting))
        let untrusted = try await Self.post(server)
        await server.stop()
        #expect(trusted == .init(statusCode: 200, errorClass: nil, responseBody: #"{"ok":true}"#))
        #expect(untrusted == .init(statusCode: nil, errorClass: "tls", responseBody: nil))
        #expect(server.requests == 1)
    }

    /// A certificate from a trusted authority, but for another address, is refused.
    @Test func httpsChecksTheAddress() async throws {
        let certificate = try NIOSSLCertificate(bytes: Array(TestCertificates.server.utf8), format: .pem)  // for 127.0.0.1
        let key = try NIOSSLPrivateKey(bytes: Array(TestCertificates.serverKey.utf8), format: .pem)
        let serverTLS = try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let server = try await ScriptedHTTPServer(script: [], tls: serverTLS, host: "127.0.0.2")
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(TestCertificates.authority.utf8), format: .pem)])
        let client = try Self.makeClient(tls: trusting)
        let result = try await Self.post(server, client: client)
        await client.shutdown()
        await server.stop()
        #expect(result.errorClass == "tls" && server.requests == 0)
    }

    /// The client applies the address rule itself, to the addresses it connects to (DNS rebinding):
    /// a literal loopback address and a name resolving to loopback are refused without connecting.
    @Test func forbiddenAddressesAreNeverConnected() async throws {
        let server = try await ScriptedHTTPServer(script: [])
        let client = try WebhookClient(destinationGuard: DestinationGuard(allowInsecure: false))
        let literal = try await Self.post(server, client: client)
        let named = try await Self.post(server, url: "http://localhost:\(server.port)/hook", client: client)
        await client.shutdown()
        await server.stop()
        #expect(literal.errorClass == "blocked_address" && named.errorClass == "blocked_address")
        #expect(server.connections == 0)
    }

    @Test func aTLSHandshakeThatNeverEndsIsATimeout() async throws {
        let server = try await ScriptedHTTPServer(script: [])  // plain TCP: the client's hello never gets an answer
        let result = try await Self.post(server, url: server.url.replacingOccurrences(of: "http:", with: "https:"), timeout: .milliseconds(300))
        await server.stop()
        #expect(result == .init(statusCode: nil, errorClass: "timeout", responseBody: nil))
    }

    /// A panel that drops every connection right after answering (while saying keep-alive), POSTed to
    /// back to back: no POST is lost on a dropped connection or hangs; each goes out on a new one.
    @Test(.timeLimit(.minutes(1))) func connectionsDroppedAfterEveryAnswerAreNeverReused() async throws {
        let server = try await ScriptedHTTPServer(script: Array(repeating: .answerAndClose(ScriptedHTTPServer.ok()), count: 40))
        let client = try Self.makeClient()
        // Each failure names what the server saw during that POST (whether a connection was opened and
        // the request read) and how long the event loops stalled, to tell a hang of the client from a
        // socket held open elsewhere (by a child process that inherited it: see TestPostgres).
        let probe = EventLoopStallProbe()
        var failures: [String] = []
        for number in 0..<40 {
            let (connections, requests, start) = (server.connections, server.requests, ContinuousClock.now)
            let result = try await Self.post(server, client: client)
            if result.statusCode != 200 {
                failures.append(
                    "#\(number): \(result) after \(ContinuousClock.now - start); during it the server got "
                        + "\(server.connections - connections) connection(s), \(server.requests - requests) request(s)")
            }
        }
        let stall = probe.stop()
        await client.shutdown()
        await server.stop()
        #expect(failures.isEmpty, "\(failures); longest event-loop stall \(stall) ms")
        #expect(server.requests == 40 && server.connections == 40, "requests \(server.requests), connections \(server.connections)")
    }

    /// Kept-alive connections do not outlive the idle timeout, even to a destination never used again.
    @Test func idleConnectionsAreClosed() async throws {
        let server = try await ScriptedHTTPServer(script: [])
        let client = try WebhookClient(destinationGuard: DestinationGuard(allowInsecure: true), idleTimeout: .seconds(1))
        #expect(try await Self.post(server, client: client).statusCode == 200)
        client.closeExpired()
        try await Task.sleep(for: .milliseconds(100))
        let whileFresh = server.closedConnections
        try await Task.sleep(for: .seconds(1))
        client.closeExpired()
        // Under the whole suite's load the close can be seen seconds late: wait up to 10 s.
        for _ in 0..<500 where server.closedConnections == 0 { try await Task.sleep(for: .milliseconds(20)) }
        await client.shutdown()
        await server.stop()
        #expect(whileFresh == 0)
        #expect(server.closedConnections == 1)
    }

    @Test func aShutDownClientSendsNothing() async throws {
        let server = try await ScriptedHTTPServer(script: [])
        let client = try Self.makeClient()
        await client.shutdown()
        let result = try await Self.post(server, client: client)
        await server.stop()
        #expect(result.errorClass == "network" && server.requests == 0)
    }
}
