/// The bodies Relevo sends (§5.3 to the panel, §7.3 to the channel), keys in contract order.
/// Timestamps inside events are Unix epoch milliseconds.
enum EventPayloads {
    struct Context {
        let projectId: String
        let room: Room
        let conversationId: String
        let user: EndUser
        let bot: Bot
        let time: Timestamp

        var contact: JSONValue { .members(["id": .string(user.id), "name": .string(user.names)]) }
        var botJSON: JSONValue { .members(["id": .string(bot.id), "name": .string(bot.name)]) }
        var millis: JSONValue { .number(Double(time.millisecondsSince1970)) }
    }

    static func conversationStart(_ c: Context, initialMessage: String?, assignment: JSONValue?, metadata: JSONValue?) -> JSONValue {
        .members([
            "event": "conversation.start", "timestamp": c.millis, "project_id": .string(c.projectId),
            "room_id": .string(c.room.id), "conversation": .members(["id": .string(c.conversationId)]),
            "contact": c.contact, "bot": c.botJSON,
            "initialMessage": initialMessage.map(JSONValue.string) ?? .null,
            "assignment": assignment ?? .null, "metadata": metadata ?? .object([]),
        ])
    }

    static func userMessage(_ c: Context, value: MessageValue) -> JSONValue {
        .members([
            "field": "messages", "object": "message_event", "event_type": "message", "timestamp": c.millis,
            "project_id": .string(c.projectId), "room_id": .string(c.room.id), "contact": c.contact,
            "conversation": .members(["id": .string(c.conversationId)]), "bot": c.botJSON, "value": value.json,
        ])
    }

    static func conversationClose(_ c: Context, reason: String, redirect: JSONValue?) -> JSONValue {
        .members([
            "event": "conversation.close", "timestamp": c.millis, "project_id": .string(c.projectId),
            "room_id": .string(c.room.id), "conversation": .members(["id": .string(c.conversationId)]),
            "contact": c.contact, "bot": c.botJSON, "reason": .string(reason), "redirectPayload": redirect ?? .null,
        ])
    }

    static func outgoingMessage(_ c: Context, value: MessageValue) -> JSONValue {
        .members([
            "event_type": "outgoing_message", "project_id": .string(c.projectId), "room_id": .string(c.room.id),
            "bot_id": .string(c.bot.id), "user_id": .string(c.user.id), "conversation_id": .string(c.conversationId),
            "value": value.json,
        ])
    }

    static func botResume(_ c: Context, edgeId: String) -> JSONValue {
        .members([
            "event_type": "bot.resume", "project_id": .string(c.projectId), "room_id": .string(c.room.id),
            "bot_id": .string(c.bot.id), "user_id": .string(c.user.id), "conversation_id": .string(c.conversationId),
            "edgeId": .string(edgeId),
        ])
    }
}
