import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

@testable import Relevo

/// A Relevo on a fresh SQLite file in its own temporary directory, with one project and key.
struct Harness {
    let directory: URL
    let app: RelevoApp
    let projectId: String
    let apiKey: String
    let logs: LogCapture

    var databaseURL: String { "sqlite://" + directory.appendingPathComponent("relevo.sqlite").path }

    /// Opens a harness; `configure` adjusts the configuration (rate limits, insecure flag…).
    static func make(
        directory: URL? = nil, configure: (inout RelevoConfiguration) -> Void = { _ in }
    ) async throws -> Harness {
        let given = directory
        let directory =
            directory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-test-\(UUID().uuidString)")
        var configuration = RelevoConfiguration()
        configuration.databaseURL = "sqlite://" + directory.appendingPathComponent("relevo.sqlite").path
        configuration.rateLimitPerSecond = 0
        configuration.logLevel = .trace  // every line a user could enable is checked for secrets
        configure(&configuration)
        let logs = LogCapture()
        var logger = Logger(label: "relevo-test") { _ in logs.handler() }
        logger.logLevel = .trace
        do {
            let app = try await RelevoApp(configuration: configuration, logger: logger)
            let seeded = try await app.seedDefaultProjectIfEmpty()
            let issued = if let seeded { seeded } else { try await app.projects.createProject(name: "again") }
            return Harness(directory: directory, app: app, projectId: issued.projectId, apiKey: issued.apiKey, logs: logs)
        } catch {
            // No harness reaches the test to remove it (a refused start creates the file first).
            if given == nil { removeTemporaryDirectory(directory) }
            throw error
        }
    }

    /// Runs `body` against the router (no sockets; the full middleware chain).
    func withClient(_ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let application = try app.buildApplication(withDelivery: false)
        try await application.test(.router) { client in
            try await body(APIClient(client: client, harness: self))
        }
    }

    func removeFiles() { try? FileManager.default.removeItem(at: directory) }
}

/// Removes a test's temporary directory. Tried again while it is still there: a server stopped just
/// before (SIGTERM, not awaited) deletes its `-wal` and `-shm` files meanwhile, and FileManager gives
/// up, leaving the directory behind, at the first file that vanished under it.
func removeTemporaryDirectory(_ directory: URL) {
    for _ in 0..<10 where FileManager.default.fileExists(atPath: directory.path) {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A response with its body parsed, for assertions.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    var json: JSONValue { (try? JSONParser.parse(text)) ?? .null }
    var data: JSONValue { json["data"] ?? .null }
    var errorKey: String? { if case .string(let key)? = json["error"]?["key"] { key } else { nil } }
    var invalidFields: [String] {
        guard case .object(let members)? = json["validationError"] else { return [] }
        return members.map(\.key)
    }

    func string(_ path: String...) -> String? {
        var value = json
        for key in path { value = value[key] ?? .null }
        if case .string(let text) = value { return text }
        return nil
    }
}

/// Calls the API as a client would: JSON bodies, `x-api-key` unless told otherwise.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    let harness: Harness

    var integrationPath: String { "/v1/external-support/\(harness.projectId)" }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, body: String? = nil, key: String?? = .none,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        var fields = headers
        let apiKey: String? =
            switch key {
            case .none: harness.apiKey;
            case .some(let value): value
            }
        if let apiKey { fields[HTTPField.Name("x-api-key")!] = apiKey }
        if body != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// The status of a call, or 599 when the call itself failed (so `#expect` can stay non-throwing).
    func statusOf(
        _ method: HTTPRequest.Method, _ path: String, body: String? = nil, key: String?? = .none
    ) async -> HTTPResponse.Status {
        (try? await call(method, path, body: body, key: key).status) ?? HTTPResponse.Status(code: 599)
    }

    /// Creates the integration with a public literal address (no DNS needed offline).
    @discardableResult
    func createIntegration(_ body: String = #"{"webhookUrl":"https://93.184.215.14/hook","authType":"bearer","authorization":"panel-token-123"}"#)
        async throws -> Reply
    {
        try await call(.post, integrationPath, body: body)
    }
}

/// Collects every log line so tests can prove no secret is ever logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func handler() -> some LogHandler { CapturingHandler(capture: self) }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(merged)")
        }
    }
}
