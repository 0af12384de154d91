/// The headers of one attempt (§5.1), in the order they are sent: made by the attempt runner, and
/// made again for the event log, where the panel credential's value is hidden.
enum OutboundHeaders {
    /// What the credential's value is shown as in the event log.
    static let hiddenValue = "(hidden)"

    /// `timestamp` is the attempt's start in Unix seconds; `keys` the secrets in force (the current
    /// one first); `credential` the header that carries the panel's credential, if any.
    static func make(eventId: String, body: [UInt8], timestamp: Int64, keys: [SigningKey], credential: (String, String)?) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("X-Jelou-Signature", WebhookSignature.jelou(key: keys[0], body: body)),
            ("webhook-id", eventId),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.standard(keys: keys, id: eventId, timestamp: timestamp, body: body)),
            ("User-Agent", "Relevo/\(Release.version)"),
        ]
        if let credential { headers.append(credential) }
        return headers
    }

    /// Whether an attempt sent a request: it has an answer's status, or failed on the way (timeout,
    /// refused, TLS…) rather than before sending (a blocked address, an unreadable secret, no destination).
    static func sentRequest(_ attempt: DeliveryAttempt) -> Bool {
        attempt.statusCode != nil || attempt.errorClass.map { !unsentErrorClasses.contains($0) } ?? false
    }

    private static let unsentErrorClasses: Set<String> = [
        "blocked_address", "secret_unreadable", "store", "integration_deleted", "bot_deleted",
    ]
}
