import Foundation
import HTTPTypes

/// Checks that a request really comes from Relevo, over the exact bytes of its body.
///
/// Relevo signs every event twice: `X-Jelou-Signature` (the body's HMAC) and the Standard Webhooks
/// headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`: the HMAC of id, timestamp and body).
/// ``verify(headers:body:now:)`` checks the Standard Webhooks ones, whose timestamp stops a
/// recorded request from being replayed later; ``verifyJelouSignature(_:body:)`` checks the other,
/// for code that must accept what a Jelou panel accepts.
///
/// During a secret rotation's grace period give both secrets, the new one first: a request signed
/// with either passes. Every secret and every signature is tried, whatever matched, so the time
/// taken does not tell which one did.
///
/// ```swift
/// let verifier = WebhookVerifier(secrets: [SigningSecret(newSecret), SigningSecret(oldSecret)])
/// let delivery = try verifier.verify(headers: request.headers, body: rawBody)
/// switch try delivery.event() {
/// case .message(let message): print(message.value.content)
/// default: break
/// }
/// ```
public struct WebhookVerifier: Sendable {
    /// The secrets a signature may be made with.
    public let secrets: [SigningSecret]
    /// How far `webhook-timestamp` may be from the verifier's clock, either way.
    public let tolerance: Duration

    /// A verifier accepting signatures by any of `secrets`, and timestamps within `tolerance`
    /// (five minutes by default, as Standard Webhooks advises).
    public init(secrets: [SigningSecret], tolerance: Duration = .seconds(300)) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// ``init(secrets:tolerance:)`` from the secrets' texts.
    public init(secrets: [String], tolerance: Duration = .seconds(300)) {
        self.init(secrets: secrets.map(SigningSecret.init), tolerance: tolerance)
    }

    /// Verifies the Standard Webhooks headers of a request (names in any case).
    public func verify(headers: HTTPFields, body: [UInt8], now: Date = Date()) throws(WebhookVerificationError) -> VerifiedDelivery {
        try verifyStandardWebhooks(
            id: headers[Self.id], timestamp: headers[Self.timestamp], signature: headers[Self.signature], body: body, now: now)
    }

    /// ``verify(headers:body:now:)`` for headers in a dictionary (names in any case).
    public func verify(headers: [String: String], body: [UInt8], now: Date = Date()) throws(WebhookVerificationError) -> VerifiedDelivery {
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        return try verify(headers: fields, body: body, now: now)
    }

    /// Verifies the three Standard Webhooks values: a timestamp within ``tolerance`` of `now`, and
    /// among the `v1,` signatures one made with one of ``secrets`` over `{id}.{timestamp}.{body}`.
    public func verifyStandardWebhooks(
        id: String?, timestamp: String?, signature: String?, body: [UInt8], now: Date = Date()
    ) throws(WebhookVerificationError) -> VerifiedDelivery {
        guard let id, !id.isEmpty else { throw .missingHeader("webhook-id") }
        guard let timestamp else { throw .missingHeader("webhook-timestamp") }
        guard let signature else { throw .missingHeader("webhook-signature") }
        guard let seconds = Int64(timestamp.trimmingCharacters(in: .whitespaces)) else { throw .malformedHeader("webhook-timestamp") }
        let codes = signature.split(separator: " ").compactMap { entry -> [UInt8]? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let code = Data(base64Encoded: String(parts[1])) else { return nil }
            return Array(code)
        }
        guard !codes.isEmpty else { throw .malformedHeader("webhook-signature") }
        let skew = Int64(now.timeIntervalSince1970.rounded(.down)) - seconds
        let allowed = tolerance.components.seconds
        if skew > allowed { throw .timestampTooOld(seconds: skew) }
        if -skew > allowed { throw .timestampInFuture(seconds: -skew) }
        let message = Array("\(id).\(seconds).".utf8) + body
        guard anySecret(authenticatesAnyOf: codes, message) else { throw .signatureMismatch }
        return VerifiedDelivery(webhookId: id, timestamp: Date(timeIntervalSince1970: TimeInterval(seconds)), body: body)
    }

    /// Verifies an `X-Jelou-Signature` header (`sha256=<hex HMAC of the body>`). It carries no
    /// timestamp, so it cannot tell a replayed request: prefer ``verify(headers:body:now:)``.
    public func verifyJelouSignature(_ header: String?, body: [UInt8]) throws(WebhookVerificationError) {
        guard let header else { throw .missingHeader("x-jelou-signature") }
        guard header.hasPrefix("sha256="), let code = Self.hexBytes(header.dropFirst(7)), code.count == 32 else {
            throw .malformedHeader("x-jelou-signature")
        }
        guard anySecret(authenticatesAnyOf: [code], body) else { throw .signatureMismatch }
    }

    /// Tries every pair without stopping at a match, so the time does not depend on which matched.
    private func anySecret(authenticatesAnyOf codes: [[UInt8]], _ message: [UInt8]) -> Bool {
        var matched = false
        for secret in secrets {
            for code in codes where secret.authenticates(code, of: message) { matched = true }
        }
        return matched
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static let id = HTTPField.Name("webhook-id")!
    static let timestamp = HTTPField.Name("webhook-timestamp")!
    static let signature = HTTPField.Name("webhook-signature")!
}

/// A request whose signature was verified: its id (the same on every retry of one event), the time
/// it was signed and its body, which ``event()`` reads.
///
/// ```swift
/// let delivery = try verifier.verify(headers: headers, body: body)
/// guard deduplicator.isFirstDelivery(delivery.webhookId) else { return .ok }  // a retry
/// let event = try delivery.event()
/// ```
public struct VerifiedDelivery: Sendable {
    /// `webhook-id`: the event's id, stable across retries and redeliveries. Deduplicate on it.
    public let webhookId: String
    /// `webhook-timestamp`: when this attempt was signed.
    public let timestamp: Date
    /// The body, byte for byte as received.
    public let body: [UInt8]

    /// The body as a typed event.
    public func event() throws(PanelEventError) -> PanelEvent { try PanelEvent(json: body) }
}

/// Why a request was not accepted as coming from Relevo. The messages name the header and the
/// problem, never an expected signature.
///
/// ```swift
/// do { delivery = try verifier.verify(headers: headers, body: body) } catch {
///     logger.warning("refused: \(error)")  // e.g. "the webhook-signature header is missing"
///     return .unauthorized
/// }
/// ```
public enum WebhookVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header the scheme needs is absent (its lowercase name).
    case missingHeader(String)
    /// A header is present but not in the scheme's form (its lowercase name).
    case malformedHeader(String)
    /// `webhook-timestamp` is further in the past than the tolerance allows (a replay, or a clock far behind); `seconds` is its age.
    case timestampTooOld(seconds: Int64)
    /// `webhook-timestamp` is further in the future than the tolerance allows (a clock far ahead); `seconds` is how far ahead.
    case timestampInFuture(seconds: Int64)
    /// No signature matches the body under any of the secrets: a wrong secret, or a body changed on the way.
    case signatureMismatch

    /// The problem in one English phrase, safe to log.
    public var description: String {
        switch self {
        case .missingHeader(let name): "the \(name) header is missing"
        case .malformedHeader(let name): "the \(name) header is malformed"
        case .timestampTooOld(let seconds): "webhook-timestamp is \(seconds) s old, more than the tolerance allows"
        case .timestampInFuture(let seconds): "webhook-timestamp is \(seconds) s in the future, more than the tolerance allows"
        case .signatureMismatch: "no signature matches the body under the configured secrets"
        }
    }
}
