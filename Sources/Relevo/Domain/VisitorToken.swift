/// Who a web chat caller is: a visitor's user id, the origin of the page it was issued for, and
/// until when it holds. Handed to the widget sealed (AES-GCM under a key derived from the master
/// key, bound to the bot), so it can be neither read nor made up, and a token of one bot opens for
/// no other.
package struct VisitorToken: Sendable, Equatable {
    package let userId: String
    package let origin: String
    package let expiresAt: Timestamp

    /// How long a token holds; the widget renews it once half of that has passed.
    static let lifetimeSeconds: Int64 = 24 * 3600

    /// Seals and opens tokens.
    struct Sealer {
        private let secrets: SecretBox

        init(secrets: SecretBox) { self.secrets = secrets.derived(for: "relevo web chat visitor tokens") }

        private static func context(projectId: String, botId: String) -> String { "visitor:\(projectId):\(botId)" }

        func seal(_ token: VisitorToken, projectId: String, botId: String) -> String {
            let text = "\(token.expiresAt.millisecondsSince1970)\n\(token.origin)\n\(token.userId)"
            return secrets.seal(text, context: Self.context(projectId: projectId, botId: botId)).urlSafeForm
        }

        /// The token, or nil when it was not sealed for this bot or has expired.
        func open(_ text: String, projectId: String, botId: String, now: Timestamp) -> VisitorToken? {
            guard let sealed = SealedSecret(urlSafeForm: text, maximumLength: 1024),
                let opened = secrets.open(sealed, context: Self.context(projectId: projectId, botId: botId))
            else { return nil }
            let parts = opened.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let millis = Int64(parts[0]), millis > now.millisecondsSince1970 else { return nil }
            return VisitorToken(userId: String(parts[2]), origin: String(parts[1]), expiresAt: Timestamp(millisecondsSince1970: millis))
        }
    }
}
