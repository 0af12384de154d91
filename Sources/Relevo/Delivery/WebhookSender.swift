import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The only code that sends HTTP out: one POST, never following redirects, within a deadline,
/// keeping at most 4 KiB of the answer.
public struct WebhookSender: Sendable {
    /// What came of one POST.
    public struct Result: Sendable, Equatable {
        public var statusCode: Int?
        public var errorClass: String?
        public var responseBody: String?
        /// From `Retry-After` on 429/503.
        public var retryAfter: Duration?
    }

    static let keptResponseBytes = 4096
    let client: HTTPClient
    let timeout: Duration

    public init(client: HTTPClient, timeout: Duration = .seconds(15)) {
        self.client = client
        self.timeout = timeout
    }

    /// An HTTP client configured for webhooks: redirects are failures, bodies are not decompressed,
    /// and as many connections per host as the dispatcher lets attempts run at once to one
    /// destination (AsyncHTTPClient's default of 8 would queue the rest inside the client).
    public static func makeClient(connectionsPerHost: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(15)),
            decompression: .disabled)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func post(url: String, headers: [(String, String)], body: [UInt8]) async -> Result {
        do {
            let request = try HTTPClient.Request(
                url: url, method: .POST, headers: HTTPHeaders(headers), body: .byteBuffer(ByteBuffer(bytes: body)))
            let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            let response = try await client.execute(
                request: request, delegate: KeptResponse(limit: Self.keptResponseBytes), deadline: .now() + .milliseconds(milliseconds)
            ).futureResult.get()
            let code = response.status
            var result = Result(statusCode: code, errorClass: nil, responseBody: String(buffer: response.body))
            if (300..<400).contains(code) { result.errorClass = "redirect" } else if !(200..<300).contains(code) { result.errorClass = "http_status" }
            if code == 429 || code == 503, let header = response.headers.first(name: "retry-after") {
                result.retryAfter = Self.parseRetryAfter(header)
            }
            return result
        } catch {
            return Result(statusCode: nil, errorClass: Self.classify(error), responseBody: nil)
        }
    }

    /// Seconds, or an HTTP date.
    static func parseRetryAfter(_ value: String) -> Duration? {
        if let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSinceNow.rounded(.up))))
    }

    /// The error class recorded with an attempt (§5.2).
    static func classify(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout: return "timeout"
            case .remoteConnectionClosed: return "connection_closed"
            default: break
            }
        }
        if let error = error as? NIOConnectionError {
            if error.dnsAAAAError != nil || error.dnsAError != nil, error.connectionErrors.isEmpty { return "dns" }
            return "connection_refused"
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection_refused" }
        if error is ChannelError { return "connection_refused" }
        let name = String(describing: type(of: error))
        if name.contains("SSL") || name.contains("TLS") { return "tls" }
        if name.contains("Resolution") || name.contains("DNS") || name.contains("LookupError") { return "dns" }
        return "network"
    }
}
