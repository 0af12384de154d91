/// One hand-off episode inside a room, from start to close (§3).
package struct Conversation: Sendable, Equatable {
    package enum State: String, Sendable { case active, closed }

    package let projectId: String
    package let id: String
    package let roomId: String
    package let botId: String
    package let userId: String
    package var state: State
    package let startAt: Timestamp
    package var endAt: Timestamp?
    package var endedReason: String?
    package let assignment: JSONValue?
    package let metadata: JSONValue?

    package init(
        projectId: String, id: String, roomId: String, botId: String, userId: String, state: State,
        startAt: Timestamp, endAt: Timestamp? = nil, endedReason: String? = nil,
        assignment: JSONValue?, metadata: JSONValue?
    ) {
        self.projectId = projectId
        self.id = id
        self.roomId = roomId
        self.botId = botId
        self.userId = userId
        self.state = state
        self.startAt = startAt
        self.endAt = endAt
        self.endedReason = endedReason
        self.assignment = assignment
        self.metadata = metadata
    }
}

/// A line of a conversation's history.
package struct ConversationMessage: Sendable, Equatable {
    package enum Direction: String, Sendable { case user, agent, system }

    package let conversationId: String
    package let id: String
    package let direction: Direction
    package let type: String
    package let content: JSONValue
    package let createdAt: Timestamp

    package init(conversationId: String, id: String, direction: Direction, type: String, content: JSONValue, createdAt: Timestamp) {
        self.conversationId = conversationId
        self.id = id
        self.direction = direction
        self.type = type
        self.content = content
        self.createdAt = createdAt
    }
}
