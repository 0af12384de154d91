/// A bot of a project (§7.1). Its channel is where messages for the end user are delivered.
public struct Bot: Sendable, Equatable {
    public let projectId: String
    public let id: String
    public var name: String
    /// Where deliveries for the end user go; while nil they wait in the log as `held`.
    public var channelWebhookUrl: String?
    /// Signs what Relevo sends to the channel; shown once, at creation.
    public var channelSecret: SealedSecret
    public let createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(projectId: String, id: String, name: String, channelWebhookUrl: String?, channelSecret: SealedSecret,
                createdAt: Timestamp, updatedAt: Timestamp) {
        self.projectId = projectId
        self.id = id
        self.name = name
        self.channelWebhookUrl = channelWebhookUrl
        self.channelSecret = channelSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    var publicJSON: JSONValue {
        .members([
            "id": .string(id), "name": .string(name),
            "channelWebhookUrl": channelWebhookUrl.map(JSONValue.string) ?? .null,
            "createdAt": .string(createdAt.iso8601), "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}

/// An end user talking to bots of a project (§7.2).
public struct EndUser: Sendable, Equatable {
    public let projectId: String
    public let id: String
    public var names: String
    public var referenceId: String?
    public let createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(projectId: String, id: String, names: String, referenceId: String?, createdAt: Timestamp, updatedAt: Timestamp) {
        self.projectId = projectId
        self.id = id
        self.names = names
        self.referenceId = referenceId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    var publicJSON: JSONValue {
        .members([
            "id": .string(id), "names": .string(names), "referenceId": referenceId.map(JSONValue.string) ?? .null,
            "createdAt": .string(createdAt.iso8601), "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}

/// The chat between one user and one bot: one per (bot, user).
public struct Room: Sendable, Equatable {
    public let projectId: String
    public let id: String
    public let botId: String
    public let userId: String
    public let createdAt: Timestamp

    public init(projectId: String, id: String, botId: String, userId: String, createdAt: Timestamp) {
        self.projectId = projectId
        self.id = id
        self.botId = botId
        self.userId = userId
        self.createdAt = createdAt
    }
}
