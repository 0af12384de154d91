/// One hand-off episode inside a room, from start to close (§3).
public struct Conversation: Sendable, Equatable {
    public enum State: String, Sendable { case active, closed }

    public let projectId: String
    public let id: String
    public let roomId: String
    public let botId: String
    public let userId: String
    public var state: State
    public let startAt: Timestamp
    public var endAt: Timestamp?
    public var endedReason: String?
    public let assignment: JSONValue?
    public let metadata: JSONValue?

    public init(projectId: String, id: String, roomId: String, botId: String, userId: String, state: State,
                startAt: Timestamp, endAt: Timestamp? = nil, endedReason: String? = nil,
                assignment: JSONValue?, metadata: JSONValue?) {
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
public struct ConversationMessage: Sendable, Equatable {
    public enum Direction: String, Sendable { case user, agent, system }

    public let conversationId: String
    public let id: String
    public let direction: Direction
    public let type: String
    public let content: JSONValue
    public let createdAt: Timestamp

    public init(conversationId: String, id: String, direction: Direction, type: String, content: JSONValue, createdAt: Timestamp) {
        self.conversationId = conversationId
        self.id = id
        self.direction = direction
        self.type = type
        self.content = content
        self.createdAt = createdAt
    }

    var json: JSONValue {
        .members([
            "direction": .string(direction.rawValue), "id": .string(id), "type": .string(type),
            "content": content, "createdAt": .string(createdAt.iso8601),
        ])
    }
}
