/// How Relevo presents the panel credential on outbound events (§5.1).
package enum AuthType: String, Sendable, CaseIterable {
    case noAuth = "no_auth"
    case bearer
    case apiKey = "api_key"
    case basic

    /// Whether an `authorization` value must accompany this type.
    package var needsCredential: Bool { self != .noAuth }
}
