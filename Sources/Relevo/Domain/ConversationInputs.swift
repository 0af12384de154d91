/// E6: what starting a conversation needs, read and checked by the HTTP layer.
package struct ConversationStart: Sendable {
    package var botId: String
    package var userId: String
    /// Sent to the end user as the conversation's first message.
    package var initialMessage: String?
    package var metadata: JSONValue?
    /// `{"type": "queue" | "operator" | "team", "target": …}`, passed to the panel as is.
    package var assignment: JSONValue?
}

/// E7: what closing a conversation needs.
package struct ConversationClose: Sendable {
    package var botId: String
    package var userId: String
    /// What happens for the end user once the agent is gone.
    package var redirect: Redirect?

    package enum Redirect: Sendable, Equatable {
        /// A last message for the end user.
        case text(String)
        /// The bot resumes at this edge of its flow.
        case edge(id: String)

        /// As `redirectPayload` in the `conversation.close` event, keys in contract order.
        var json: JSONValue {
            switch self {
            case .text(let text): .members(["type": "text", "text": .string(text)])
            case .edge(let id): .members(["type": "edge", "edgeId": .string(id)])
            }
        }
    }
}

/// §7.3: a message the end user wrote, as the channel sends it.
package struct ChannelMessage: Sendable {
    package var botId: String
    package var userId: String
    /// The user's display name; creates or renames the user.
    package var userName: String?
    package var value: MessageValue
}

/// §6: an agent's message from the panel, its signature already verified.
package struct AgentReply: Sendable {
    package var projectId: String
    package var roomId: String
    package var botId: String
    package var userId: String
    package var value: MessageValue
}
