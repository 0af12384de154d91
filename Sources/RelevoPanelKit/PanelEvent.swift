import Foundation

/// An event Relevo sends to the panel, typed.
///
/// A type this version of the SDK does not know arrives as ``unknown(type:body:)`` rather than as an
/// error, so that a panel keeps working when a newer Relevo adds events: answer it with 2xx and
/// ignore it, or read its body yourself.
///
/// ```swift
/// switch try PanelEvent(json: body) {
/// case .conversationStart(let start): openTicket(start.conversationId, for: start.contact)
/// case .message(let message): append(message.value, to: message.conversationId)
/// case .conversationClose(let close): closeTicket(close.conversationId, reason: close.reason)
/// case .unknown: break
/// }
/// ```
public enum PanelEvent: Sendable, Hashable {
    /// `message`: the end user wrote while the conversation is active.
    case message(MessageEvent)
    /// `conversation.start`: a bot handed a conversation to the panel.
    case conversationStart(ConversationStartEvent)
    /// `conversation.close`: the conversation ended.
    case conversationClose(ConversationCloseEvent)
    /// An event type this SDK does not know: its type (`event` or `event_type`) and its body as it came.
    case unknown(type: String, body: [UInt8])

    /// Reads an event body. Throws only when the body is not a JSON object, or when an event of a known
    /// type lacks one of its fields or has one of the wrong type.
    public init(json body: [UInt8]) throws(PanelEventError) {
        guard let json = JSONValue.parse(body), case .object = json else { throw .notJSONObject }
        let fields = EventFields(json: json)
        if json["event_type"]?.stringValue == "message" && json["event"] == nil {
            self = .message(try MessageEvent(fields))
            return
        }
        switch json["event"]?.stringValue {
        case "conversation.start": self = .conversationStart(try ConversationStartEvent(fields))
        case "conversation.close": self = .conversationClose(try ConversationCloseEvent(fields))
        default: self = .unknown(type: json["event"]?.stringValue ?? json["event_type"]?.stringValue ?? "", body: body)
        }
    }

    /// The conversation the event belongs to (nil for an unknown event).
    public var conversationId: String? {
        switch self {
        case .message(let event): event.conversationId
        case .conversationStart(let event): event.conversationId
        case .conversationClose(let event): event.conversationId
        case .unknown: nil
        }
    }
}

/// Who the end user is, as events name them (`contact`).
///
/// ```swift
/// let contact = start.contact
/// print("\(contact.name) (\(contact.id))")  // "Ana Díaz (ana)"
/// ```
public struct Contact: Sendable, Hashable {
    /// The end user's id: a reply's `user_id`.
    public let id: String
    /// The end user's name (the user's `names` in Relevo).
    public let name: String

    /// A contact with the given id and name.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// The bot the end user was talking to (`bot`).
///
/// ```swift
/// let bot = message.bot
/// print("\(bot.name) (\(bot.id))")  // "Sales Bot (sales-bot)"
/// ```
public struct Bot: Sendable, Hashable {
    /// The bot's id: a reply's `bot_id`.
    public let id: String
    /// The bot's display name.
    public let name: String

    /// A bot with the given id and name.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// Where a conversation was handed to: `{"type": "queue" | "operator" | "team", "target"}`.
///
/// ```swift
/// let sales = Assignment(type: "queue", target: "sales")
/// if let assignment = start.assignment, assignment.type == "queue" { route(to: assignment.target) }
/// ```
public struct Assignment: Sendable, Hashable, Codable {
    /// `queue`, `operator` or `team`.
    public var type: String
    /// Which queue, operator or team: 1–256 characters.
    public var target: String

    /// An assignment of the given type to `target`.
    public init(type: String, target: String) {
        self.type = type
        self.target = target
    }
}

/// `message`: the end user wrote while the conversation is active.
///
/// ```swift
/// if case .text(let body) = message.value.content { print("\(message.contact.name): \(body)") }
/// ```
public struct MessageEvent: Sendable, Hashable {
    /// When the event was created (`timestamp`, Unix milliseconds on the wire).
    public let timestamp: Date
    /// The project (`project_id`).
    public let projectId: String
    /// The room of the bot and the end user (`room_id`), needed to reply.
    public let roomId: String
    /// The end user who wrote.
    public let contact: Contact
    /// The conversation the message belongs to (`conversation.id`).
    public let conversationId: String
    /// The bot the end user writes to.
    public let bot: Bot
    /// The message; its `id` is the channel's, unique in the project.
    public let value: MessageValue

    init(_ fields: EventFields) throws(PanelEventError) {
        timestamp = try fields.timestamp()
        projectId = try fields.string("project_id")
        roomId = try fields.string("room_id")
        contact = try fields.contact()
        conversationId = try fields.string("conversation", "id")
        bot = try fields.bot()
        value = try fields.message("value")
    }
}

/// `conversation.start`: a conversation was handed to the panel.
///
/// ```swift
/// let page = start.metadata["page"]?.stringValue
/// ```
public struct ConversationStartEvent: Sendable, Hashable {
    /// When the conversation started (`timestamp`, Unix milliseconds on the wire).
    public let timestamp: Date
    /// The project (`project_id`).
    public let projectId: String
    /// The room of the bot and the end user (`room_id`), needed to reply.
    public let roomId: String
    /// The new conversation (`conversation.id`).
    public let conversationId: String
    /// The end user handed over.
    public let contact: Contact
    /// The bot that handed the end user over.
    public let bot: Bot
    /// What the bot told the end user when it handed over, if anything.
    public let initialMessage: String?
    /// Which queue, operator or team should take the conversation; nil when the start named none.
    public let assignment: Assignment?
    /// What the bot platform attached to the conversation.
    public let metadata: [String: JSONValue]

    init(_ fields: EventFields) throws(PanelEventError) {
        timestamp = try fields.timestamp()
        projectId = try fields.string("project_id")
        roomId = try fields.string("room_id")
        conversationId = try fields.string("conversation", "id")
        contact = try fields.contact()
        bot = try fields.bot()
        initialMessage = try fields.optionalString("initialMessage")
        if let assignment = fields.json["assignment"], assignment != .null {
            self.assignment = Assignment(
                type: try fields.string("assignment", "type"), target: try fields.string("assignment", "target"))
        } else {
            assignment = nil
        }
        switch fields.json["metadata"] {
        case nil, .null?: metadata = [:]
        case .object(let members)?: metadata = members
        default: throw .wrongType("metadata")
        }
    }
}

/// `conversation.close`: the conversation ended; a new reply in it is refused (`CONVERSATION_NOT_ACTIVE`).
///
/// ```swift
/// if case .conversationClose(let close) = event {
///     closeTicket(close.conversationId, reason: close.reason)
/// }
/// ```
public struct ConversationCloseEvent: Sendable, Hashable {
    /// When the conversation was closed (`timestamp`, Unix milliseconds on the wire).
    public let timestamp: Date
    /// The project (`project_id`).
    public let projectId: String
    /// The room of the bot and the end user (`room_id`).
    public let roomId: String
    /// The conversation that ended (`conversation.id`).
    public let conversationId: String
    /// The end user of the conversation.
    public let contact: Contact
    /// The bot of the conversation.
    public let bot: Bot
    /// Why it ended: `closed_by_operator` (closed through the API), or a reason a newer Relevo adds.
    public let reason: String
    /// What the end user was sent on: a last text, or back to a node of the bot's flow.
    public let redirect: Redirect?

    init(_ fields: EventFields) throws(PanelEventError) {
        timestamp = try fields.timestamp()
        projectId = try fields.string("project_id")
        roomId = try fields.string("room_id")
        conversationId = try fields.string("conversation", "id")
        contact = try fields.contact()
        bot = try fields.bot()
        reason = try fields.string("reason")
        switch fields.json["redirectPayload"] {
        case nil, .null?: redirect = nil
        case let payload?:
            switch payload["type"]?.stringValue {
            case "text": redirect = .text(try fields.string("redirectPayload", "text"))
            case "edge": redirect = .edge(try fields.string("redirectPayload", "edgeId"))
            default: redirect = .other(payload)
            }
        }
    }
}

/// A close's `redirectPayload`: where the end user was sent on.
///
/// ```swift
/// switch close.redirect {
/// case .text(let text)?: print("the user was told: \(text)")
/// case .edge(let node)?: print("back to the bot at \(node)")
/// case .other?, nil: break
/// }
/// ```
public enum Redirect: Sendable, Hashable {
    /// A last text for the end user.
    case text(String)
    /// Back to the bot, at this node of its flow.
    case edge(String)
    /// A kind this SDK does not know, as it came.
    case other(JSONValue)
}

/// Why an event body could not be read; the field is named by its path (`value.content.body`).
///
/// ```swift
/// do {
///     event = try delivery.event()
/// } catch {
///     logger.error("unreadable event: \(error)")  // e.g. "the event has no value.content.body"
/// }
/// ```
public enum PanelEventError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The body is not JSON, or not a JSON object.
    case notJSONObject
    /// A required field is absent (its path).
    case missingField(String)
    /// A field has the wrong JSON type, such as a number where a string belongs (its path).
    case wrongType(String)

    /// The problem in one English phrase, naming the field's path.
    public var description: String {
        switch self {
        case .notJSONObject: "the event body is not a JSON object"
        case .missingField(let path): "the event has no \(path)"
        case .wrongType(let path): "the event's \(path) has the wrong type"
        }
    }
}

/// Typed reads of an event's members, each failure naming the member's path.
struct EventFields {
    let json: JSONValue

    func value(_ path: [String]) throws(PanelEventError) -> JSONValue {
        var current = json
        for key in path {
            guard let next = current[key] else { throw .missingField(path.joined(separator: ".")) }
            current = next
        }
        return current
    }

    func string(_ path: String...) throws(PanelEventError) -> String {
        guard let text = try value(path).stringValue else { throw .wrongType(path.joined(separator: ".")) }
        return text
    }

    func optionalString(_ key: String) throws(PanelEventError) -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw .wrongType(key)
        }
    }

    /// `timestamp`: Unix milliseconds.
    func timestamp() throws(PanelEventError) -> Date {
        guard case .number(let milliseconds) = try value(["timestamp"]) else { throw .wrongType("timestamp") }
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }

    func contact() throws(PanelEventError) -> Contact {
        Contact(id: try string("contact", "id"), name: try string("contact", "name"))
    }

    func bot() throws(PanelEventError) -> Bot {
        Bot(id: try string("bot", "id"), name: try string("bot", "name"))
    }

    func message(_ key: String) throws(PanelEventError) -> MessageValue {
        let type = try string(key, "type")
        let content = try value([key, "content"])
        return MessageValue(id: try string(key, "id"), content: try MessageContent(type: type, fields: content, path: "\(key).content"))
    }
}
