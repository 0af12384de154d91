import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RelevoPanelKit

/// A client of Relevo's API for a panel's back end: the integration, conversations, the event log,
/// and the agent's replies through the signed panel webhook.
///
/// Every call but ``send(_:secret:)`` authenticates with the project's API key (`x-api-key`); a
/// reply authenticates by its signature alone. An answer other than 2xx throws ``RelevoAPIError``
/// with the error envelope's key and message.
///
/// ```swift
/// let relevo = RelevoClient(baseURL: "https://relevo.example.com", projectId: projectId, apiKey: apiKey)
/// let created = try await relevo.createIntegration(webhookUrl: "https://panel.example.com/relevo", auth: .bearer(token))
/// // keep created.signingSecret in the panel's secret store
/// try await relevo.send(AgentReply(answering: message, value: MessageValue(id: "a1", content: .text("Hola"))),
///                       secret: SigningSecret(created.signingSecret))
/// ```
public struct RelevoClient: Sendable {
    /// The project every call but ``send(_:secret:)`` works on.
    public let projectId: String
    private let apiKey: String
    private let transport: Transport

    /// A client of the project `projectId` on the Relevo at `baseURL` (e.g. `https://relevo.example.com`).
    /// `httpClient` defaults to AsyncHTTPClient's shared client; every call gives up after `timeout`.
    public init(baseURL: String, projectId: String, apiKey: String, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(30)) {
        self.projectId = projectId
        self.apiKey = apiKey
        transport = Transport(baseURL: baseURL, http: httpClient, timeout: timeout)
    }

    /// Where Relevo listens, without a trailing slash.
    public var baseURL: String { transport.baseURL }

    // MARK: Integration

    /// The project's integration; throws `INTEGRATION_NOT_FOUND` when there is none.
    public func integration() async throws -> Integration {
        try await call(.GET, integrationPath)
    }

    /// Creates the project's integration; the answer carries the signing secret, shown only here.
    public func createIntegration(webhookUrl: String, auth: PanelAuth = .noAuth) async throws -> CreatedIntegration {
        var body: [String: JSONValue] = ["webhookUrl": .string(webhookUrl)]
        auth.write(into: &body)
        return try await call(.POST, integrationPath, body: .object(body))
    }

    /// Changes the URL, the credential, or both; the signing secret stays.
    public func updateIntegration(webhookUrl: String? = nil, auth: PanelAuth? = nil) async throws -> Integration {
        var body: [String: JSONValue] = [:]
        if let webhookUrl { body["webhookUrl"] = .string(webhookUrl) }
        auth?.write(into: &body)
        return try await call(.PATCH, integrationPath, body: .object(body))
    }

    /// Deletes the integration: undelivered events are cancelled and active conversations closed.
    public func deleteIntegration() async throws {
        let _: Empty = try await call(.DELETE, integrationPath)
    }

    /// A new signing secret, shown only here. For `grace`, replies signed with the old one are still
    /// accepted and events carry Standard Webhooks signatures with both.
    public func regenerateSecret(grace: Duration = .zero) async throws -> RegeneratedSecret {
        try await call(
            .POST, integrationPath + "/secret/regenerate", body: .object(["graceSeconds": .number(Double(grace.components.seconds))]))
    }

    // MARK: Conversations

    /// Hands the end user `userId` of `botId` over to the panel, which receives `conversation.start`;
    /// `initialMessage` also goes to the user. Throws `CONVERSATION_ALREADY_ACTIVE` while the room has one.
    public func startConversation(
        botId: String, userId: String, initialMessage: String? = nil, metadata: [String: JSONValue]? = nil,
        assignment: Assignment? = nil
    ) async throws -> Conversation {
        var body: [String: JSONValue] = ["botId": .string(botId), "userId": .string(userId)]
        if let initialMessage { body["initialMessage"] = .string(initialMessage) }
        if let metadata { body["metadata"] = .object(metadata) }
        if let assignment { body["assignment"] = .object(["type": .string(assignment.type), "target": .string(assignment.target)]) }
        return try await call(.POST, integrationPath + "/conversations/start", body: .object(body))
    }

    /// Closes the active conversation of (bot, user); `redirect` sends the user a last text or back to the bot's flow.
    public func closeConversation(botId: String, userId: String, redirect: Redirect? = nil) async throws -> Conversation {
        var body: [String: JSONValue] = ["botId": .string(botId), "userId": .string(userId)]
        switch redirect {
        case .text(let text)?: body["redirectPayload"] = .object(["type": "text", "text": .string(text)])
        case .edge(let edge)?: body["redirectPayload"] = .object(["type": "edge", "edgeId": .string(edge)])
        case .other(let payload)?: body["redirectPayload"] = payload
        case nil: break
        }
        return try await call(.POST, integrationPath + "/conversations/close", body: .object(body))
    }

    /// One conversation; with `includeMessages`, its history in order.
    public func conversation(id: String, includeMessages: Bool = false) async throws -> Conversation {
        try await call(.GET, integrationPath + "/conversations/\(Transport.segment(id))" + (includeMessages ? "?include=messages" : ""))
    }

    /// The project's conversations, newest first; pass the page's ``Page/nextCursor`` for the next one.
    public func conversations(
        state: Conversation.State? = nil, botId: String? = nil, userId: String? = nil, limit: Int? = nil, cursor: String? = nil
    ) async throws -> Page<Conversation> {
        let query = Self.query(["state": state?.rawValue, "botId": botId, "userId": userId, "limit": limit.map(String.init), "cursor": cursor])
        let page: ConversationPage = try await call(.GET, integrationPath + "/conversations" + query)
        return Page(items: page.conversations, nextCursor: page.nextCursor)
    }

    // MARK: Event log

    /// The event log, newest first; pass the page's ``Page/nextCursor`` for the next one.
    public func events(status: LoggedEvent.Status? = nil, conversationId: String? = nil, limit: Int? = nil, cursor: String? = nil)
        async throws -> Page<LoggedEvent>
    {
        let query = Self.query(["status": status?.rawValue, "conversationId": conversationId, "limit": limit.map(String.init), "cursor": cursor])
        let page: EventPage = try await call(.GET, integrationPath + "/events" + query)
        return Page(items: page.events, nextCursor: page.nextCursor)
    }

    /// One event with its body and every attempt.
    public func event(id: String) async throws -> LoggedEvent {
        try await call(.GET, integrationPath + "/events/\(Transport.segment(id))")
    }

    /// Queues a delivered or failed event again (same id, new attempts).
    public func redeliver(eventId: String) async throws {
        let _: JSONValue = try await call(.POST, integrationPath + "/events/\(Transport.segment(eventId))/redeliver")
    }

    /// Queues again every `failed` event created at or after `since`; returns how many.
    public func redeliverFailed(since: Date) async throws -> Int {
        let answer: RedeliveryCount = try await call(
            .POST, integrationPath + "/events/redeliver", body: .object(["status": "failed", "since": .string(ISOTime.string(since))]))
        return answer.count
    }

    // MARK: Replies

    /// Sends an agent's message through the panel webhook, signed with `secret` over the exact bytes
    /// sent (``ReplySender`` does the same without an API key).
    @discardableResult
    public func send(_ reply: AgentReply, secret: SigningSecret) async throws -> ReplyReceipt {
        try await transport.send(reply, secret: secret)
    }

    // MARK: Paths

    private var integrationPath: String { "/v1/external-support/\(Transport.segment(projectId))" }

    private func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> Answer {
        let bytes = try body.map { try Array(JSONEncoder().encode($0)) }
        return try await transport.exchange(method, path, body: bytes, headers: [("x-api-key", apiKey)])
    }

    private static func query(_ parameters: KeyValuePairs<String, String?>) -> String {
        let pairs = parameters.compactMap { name, value in value.map { "\(name)=\(Transport.queryValue($0))" } }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}

/// The credential Relevo presents to the panel's endpoint, so that it can turn away other callers cheaply.
///
/// ```swift
/// let created = try await relevo.createIntegration(webhookUrl: "https://panel.example.com/relevo", auth: .bearer(panelToken))
/// _ = try await relevo.updateIntegration(auth: .noAuth)
/// ```
public enum PanelAuth: Sendable, Hashable {
    /// No credential (`no_auth`): the signature alone authenticates.
    case noAuth
    /// `Authorization: Bearer <token>`.
    case bearer(String)
    /// `X-API-Key: <key>`.
    case apiKey(String)
    /// `Authorization: Basic …` from `user:password` (or an already Base64-encoded value).
    case basic(String)

    func write(into body: inout [String: JSONValue]) {
        switch self {
        case .noAuth: body["authType"] = "no_auth"
        case .bearer(let token): (body["authType"], body["authorization"]) = ("bearer", .string(token))
        case .apiKey(let key): (body["authType"], body["authorization"]) = ("api_key", .string(key))
        case .basic(let credential): (body["authType"], body["authorization"]) = ("basic", .string(credential))
        }
    }
}
