/// A bot of a project (§7.1). Its channel is where messages for the end user are delivered.
package struct Bot: Sendable, Equatable {
    package let projectId: String
    package let id: String
    package var name: String
    /// Where deliveries for the end user go; while nil they wait in the log as `held`.
    package var channelWebhookUrl: String?
    /// Signs what Relevo sends to the channel; shown once, at creation.
    package var channelSecret: SealedSecret
    package let createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(
        projectId: String, id: String, name: String, channelWebhookUrl: String?, channelSecret: SealedSecret,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.projectId = projectId
        self.id = id
        self.name = name
        self.channelWebhookUrl = channelWebhookUrl
        self.channelSecret = channelSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An end user talking to bots of a project (§7.2).
package struct EndUser: Sendable, Equatable {
    package let projectId: String
    package let id: String
    package var names: String
    package var referenceId: String?
    package let createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(projectId: String, id: String, names: String, referenceId: String?, createdAt: Timestamp, updatedAt: Timestamp) {
        self.projectId = projectId
        self.id = id
        self.names = names
        self.referenceId = referenceId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The chat between one user and one bot: one per (bot, user).
package struct Room: Sendable, Equatable {
    package let projectId: String
    package let id: String
    package let botId: String
    package let userId: String
    /// The user came through the bot's web chat: what is meant for them is read by the widget from
    /// the history, and nothing goes to the bot's `channelWebhookUrl`.
    package let viaWebChat: Bool
    package let createdAt: Timestamp

    package init(projectId: String, id: String, botId: String, userId: String, viaWebChat: Bool = false, createdAt: Timestamp) {
        self.projectId = projectId
        self.id = id
        self.botId = botId
        self.userId = userId
        self.viaWebChat = viaWebChat
        self.createdAt = createdAt
    }

    /// How `rooms.channel` names a web chat room (NULL: the channel API's).
    static let webChatChannel = "webchat"
}
