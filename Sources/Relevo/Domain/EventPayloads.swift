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

    /// Written straight into its canonical bytes: this is the body of every end-user message, and a
    /// tree of five objects built first for it would be a sizeable share of a channel message's
    /// allocations. The same bytes `CanonicalJSONWriter` writes for the tree (tested); only `content`
    /// is a tree.
    static func userMessage(_ c: Context, value: MessageValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(384)
        out.append(contentsOf: #"{"field":"messages","object":"message_event","event_type":"message","timestamp":"#.utf8)
        CanonicalJSONWriter.write(c.millis, into: &out)
        for (name, text) in [
            (#","project_id":"#, c.projectId), (#","room_id":"#, c.room.id), (#","contact":{"id":"#, c.user.id),
            (#","name":"#, c.user.names), (#"},"conversation":{"id":"#, c.conversationId),
            (#"},"bot":{"id":"#, c.bot.id), (#","name":"#, c.bot.name), (#"},"value":{"id":"#, value.id),
            (#","type":"#, value.kind.rawValue),
        ] {
            out.append(contentsOf: name.utf8)
            CanonicalJSONWriter.writeString(text, into: &out)
        }
        out.append(contentsOf: #","content":"#.utf8)
        CanonicalJSONWriter.write(value.content, into: &out)
        out.append(contentsOf: "}}".utf8)
        return out
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
