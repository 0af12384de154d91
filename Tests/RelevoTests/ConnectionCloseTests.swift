import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Relevo

/// A request that does not keep its connection alive gets its answer and then a closed connection
/// (RFC 9112 §9.3), on every route; one that asks to keep it alive keeps it.
@Suite("Connections close when the request says so")
struct ConnectionCloseTests {
    /// Each served path with its parameters filled in (`:projectId` with a real project, the rest with a word).
    static func concretePaths(_ harness: Harness) -> [(String, [HTTPRequest.Method])] {
        harness.app.buildRoutes().table.paths.map { entry in
            let path = entry.path.split(separator: "/", omittingEmptySubsequences: false).map { part in
                part.hasPrefix(":") || part.hasPrefix("{") ? (part.contains("project") ? harness.projectId : "x1") : String(part)
            }.joined(separator: "/")
            return ((path.hasPrefix("/") ? "" : "/") + path, entry.methods + [.head, .options])
        }
    }

    @Test func everyRouteClosesAfterAnsweringAnHTTP10OrConnectionCloseRequest() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let application = try harness.app.buildApplication(withDelivery: false)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            let paths = Self.concretePaths(harness)
            #expect(paths.count > 10)
            for (path, methods) in paths {
                for method in methods {
                    let body = method == .get || method == .head || method == .options ? "" : "{}"
                    let common =
                        "Host: 127.0.0.1\r\nx-api-key: \(harness.apiKey)\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n"
                    for (version, connection) in [
                        ("HTTP/1.0", ""), ("HTTP/1.1", "Connection: close\r\n"),
                        ("HTTP/1.1", "Connection: Close\r\n"), ("HTTP/1.0", "Connection: keep-alive, close\r\n"),
                    ] {
                        let request = "\(method.rawValue) \(path) \(version)\r\n\(common)\(connection)\r\n\(body)"
                        let (answer, closed) = try await rawHTTPExchange(port: port, bytes: Array(request.utf8), silence: 3)
                        let what = "\(method) \(path) \(version) \(connection.trimmingCharacters(in: .newlines))"
                        #expect(answer.hasPrefix("HTTP/1.1 "), "\(what): \(answer.prefix(80))")
                        #expect(!answer.hasPrefix("HTTP/1.1 5"), "\(what): \(answer.prefix(80))")
                        #expect(closed, "\(what): the connection stayed open after the answer")
                        #expect(answer.lowercased().contains("\r\nconnection: close\r\n"), "\(what): the answer does not say it closes")
                    }
                }
            }
        }
    }

    /// Keep-alive is still the default of HTTP/1.1 and honoured when HTTP/1.0 asks for it: two
    /// requests on one connection get two answers, and the connection stays open after them.
    @Test func keepAliveRequestsKeepTheirConnection() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let application = try harness.app.buildApplication(withDelivery: false)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            for head in ["GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"] {
                let (answer, closed) = try await rawHTTPExchange(port: port, bytes: Array((head + head).utf8), silence: 20) {
                    $0.components(separatedBy: "HTTP/1.1 200").count == 3 && $0.hasSuffix("}")
                }
                #expect(answer.components(separatedBy: "HTTP/1.1 200").count == 3, "\(head): \(answer.prefix(200))")
                #expect(!closed, "\(head): closed although the request keeps the connection alive")
                #expect(!answer.lowercased().contains("connection: close"))
            }
        }
    }
}
