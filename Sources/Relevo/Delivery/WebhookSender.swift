import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Turns one POST through ``WebhookClient`` (the only code that sends HTTP out) into what an
/// attempt records: the status, the kept body, `Retry-After`, or the error class of §5.2.
package struct WebhookSender: Sendable {
    /// What came of one POST.
    package struct Result: Sendable, Equatable {
        package var statusCode: Int?
        package var errorClass: String?
        package var responseBody: String?
        /// From `Retry-After` on 429/503.
        package var retryAfter: Duration?
    }

    let client: WebhookClient
    let timeout: Duration

    package init(client: WebhookClient, timeout: Duration = .seconds(15)) {
        self.client = client
        self.timeout = timeout
    }

    package func post(url: WebhookURL, headers: [(String, String)], body: [UInt8]) async -> Result {
        do {
            let response = try await client.post(url, headers: headers, body: body, timeout: timeout)
            let code = response.status
            var result = Result(statusCode: code, errorClass: nil, responseBody: Self.text(of: response.body))
            if (300..<400).contains(code) { result.errorClass = "redirect" } else if !(200..<300).contains(code) { result.errorClass = "http_status" }
            if code == 429 || code == 503, let header = response.headers.first(name: "retry-after") {
                result.retryAfter = Self.parseRetryAfter(header)
            }
            return result
        } catch {
            return Result(statusCode: nil, errorClass: Self.classify(error), responseBody: nil)
        }
    }

    /// The kept part of an answer as text for the attempt log: bytes that are not UTF-8, and NUL,
    /// become U+FFFD. PostgreSQL's `text` cannot hold NUL (the attempt could not be recorded, and the
    /// event would be sent again and again); both stores record the same text.
    static func text(of body: ByteBuffer) -> String {
        let bytes = body.readableBytesView
        guard bytes.contains(0) else { return String(buffer: body) }
        return String(decoding: bytes.flatMap { $0 == 0 ? [0xEF, 0xBF, 0xBD] : [$0] }, as: UTF8.self)
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
        switch error {
        case WebhookClientError.timeout, ChannelError.connectTimeout(_): return "timeout"
        case WebhookClientError.closedBeforeAnswer, WebhookClientError.closedDuringAnswer: return "connection_closed"
        case WebhookClientError.unresolvable: return "dns"
        case WebhookClientError.blockedAddress: return "blocked_address"
        case WebhookClientError.invalidAnswer: return "invalid_response"
        case WebhookClientError.invalidRequestHeader: return "invalid_credential"
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil) { return "dns" }
            if error.connectionErrors.contains(where: { if case ChannelError.connectTimeout(_) = $0.error { true } else { false } }) {
                return "timeout"
            }
            return "connection_refused"
        case let error as IOError where error.errnoCode == ECONNREFUSED: return "connection_refused"
        case let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE: return "connection_closed"
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: return "tls"
        case is HTTPParserError: return "invalid_response"
        default: return "network"
        }
    }
}
