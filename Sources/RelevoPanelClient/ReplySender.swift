import AsyncHTTPClient
import RelevoPanelKit

/// Sends the agents' replies to Relevo's panel webhook, signed with the integration's secret: all a
/// panel that only answers needs (the webhook takes no API key).
///
/// ```swift
/// let replies = ReplySender(baseURL: "https://relevo.example.com", secret: SigningSecret(secret))
/// try await replies.send(AgentReply(answering: message, value: MessageValue(id: "a1", content: .text("Hola"))))
/// ```
public struct ReplySender: Sendable {
    /// The secret replies are signed with: after a rotation, the new one.
    public let secret: SigningSecret
    private let transport: Transport

    /// A sender to the Relevo at `baseURL`, signing with `secret`. `httpClient` defaults to
    /// AsyncHTTPClient's shared client; every send gives up after `timeout`.
    public init(baseURL: String, secret: SigningSecret, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(30)) {
        self.secret = secret
        transport = Transport(baseURL: baseURL, http: httpClient, timeout: timeout)
    }

    /// Sends `reply`; Relevo answers once per message id (a resend gets the first answer and delivers nothing new).
    @discardableResult
    public func send(_ reply: AgentReply) async throws -> ReplyReceipt {
        try await transport.send(reply, secret: secret)
    }
}
