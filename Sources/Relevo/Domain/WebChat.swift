/// A bot's web chat: the pages that may embed it and how a visitor reaches a person.
package struct WebChat: Sendable, Equatable {
    /// When a visitor's conversation with a person starts.
    package enum Start: String, Sendable, CaseIterable {
        /// With the visitor's first message (and the next one after a close).
        case firstMessage = "first_message"
        /// When the visitor presses "Talk to a person"; until then the input waits.
        case button
    }

    package let projectId: String
    package let botId: String
    /// Origins (`https://shop.example`, no path) whose pages may embed the widget and call its API.
    package var allowedOrigins: [String]
    package var start: Start
    /// Shown at the top of the transcript; not a message of any conversation.
    package var greeting: String?
    /// Signs the site's user ids (HMAC-SHA256); nil: every visitor is anonymous.
    package var identitySecret: SealedSecret?
    /// How long a visitor waits for `conversation.start` to reach the panel before being told that
    /// no agent could be reached yet.
    package var agentTimeoutSeconds: Int
    package let createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(
        projectId: String, botId: String, allowedOrigins: [String], start: Start, greeting: String?,
        identitySecret: SealedSecret?, agentTimeoutSeconds: Int, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.projectId = projectId
        self.botId = botId
        self.allowedOrigins = allowedOrigins
        self.start = start
        self.greeting = greeting
        self.identitySecret = identitySecret
        self.agentTimeoutSeconds = agentTimeoutSeconds
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a page of `origin` may embed the widget and call its API.
    package func allows(origin: String) -> Bool { allowedOrigins.contains(origin) }

    /// ``allows(origin:)``, or `origin` is Relevo's own (`ownAuthority`, the `Host` it was called
    /// at): the console's sandbox, a page only Relevo serves.
    package func admits(origin: String, ownAuthority: String?) -> Bool {
        allows(origin: origin) || ownAuthority.map { origin.hasSuffix("://" + $0.lowercased()) } == true
    }
}
