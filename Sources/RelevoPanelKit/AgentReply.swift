import Foundation

/// An agent's message for the end user, for Relevo's panel webhook (`POST /v1/external-support/webhook`).
///
/// The webhook authenticates by `X-Jelou-Signature` over the exact bytes received, so ``signed(with:)``
/// serializes the body once and signs those bytes: send ``SignedReply/body`` unchanged.
/// `RelevoClient.send(_:secret:)` of RelevoPanelClient does both.
///
/// ```swift
/// let reply = AgentReply(answering: message, value: MessageValue(id: "agent-42", content: .text("Ya lo reviso")))
/// let signed = reply.signed(with: SigningSecret(secret))
/// // POST signed.body with the header "X-Jelou-Signature: \(signed.signature)"
/// ```
public struct AgentReply: Sendable, Hashable {
    /// The project of the conversation: the event's `project_id`.
    public var projectId: String
    /// The room of the conversation: the event's `room_id`.
    public var roomId: String
    /// The bot the end user talks to: the event's `bot.id`.
    public var botId: String
    /// The end user the message is for: the event's `contact.id`.
    public var userId: String
    /// The message; its `id` is yours to choose, unique in the project (a resend with the same id is
    /// answered as the first was and delivered once).
    public var value: MessageValue

    /// A reply from the four ids the events carry; prefer ``init(answering:value:)`` or ``init(in:value:)``,
    /// which take them from an event.
    public init(projectId: String, roomId: String, botId: String, userId: String, value: MessageValue) {
        self.projectId = projectId
        self.roomId = roomId
        self.botId = botId
        self.userId = userId
        self.value = value
    }

    /// A reply in the conversation of `message`, to the user who wrote it.
    public init(answering message: MessageEvent, value: MessageValue) {
        self.init(projectId: message.projectId, roomId: message.roomId, botId: message.bot.id, userId: message.contact.id, value: value)
    }

    /// A message in the conversation `start` opened.
    public init(in start: ConversationStartEvent, value: MessageValue) {
        self.init(projectId: start.projectId, roomId: start.roomId, botId: start.bot.id, userId: start.contact.id, value: value)
    }

    /// The body, keys in the order of the API's documentation, without whitespace.
    public var body: [UInt8] {
        var writer = JSONWriter()
        writer.object([
            ("field", .string("messages")), ("object", .string("message_event")), ("event_type", .string("incoming_message")),
            ("project_id", .string(projectId)), ("room_id", .string(roomId)), ("bot_id", .string(botId)),
            ("user_id", .string(userId)),
        ]) { writer in
            writer.member("value") { writer in
                writer.object([("id", .string(value.id)), ("type", .string(value.type)), ("content", value.content.fields)])
            }
        }
        return writer.bytes
    }

    /// The body and its signature under `secret`.
    public func signed(with secret: SigningSecret) -> SignedReply {
        let body = body
        return SignedReply(body: body, signature: secret.jelouSignature(of: body))
    }
}

/// A serialized reply and the `X-Jelou-Signature` of exactly those bytes.
///
/// ```swift
/// let signed = reply.signed(with: SigningSecret(secret))
/// request.headers.add(name: "X-Jelou-Signature", value: signed.signature)
/// request.body = .bytes(ByteBuffer(bytes: signed.body))  // the very bytes signed
/// ```
public struct SignedReply: Sendable, Hashable {
    /// The JSON body to send as is: any change to these bytes invalidates ``signature``.
    public let body: [UInt8]
    /// The value of the `X-Jelou-Signature` header.
    public let signature: String
}

/// Compact JSON with members in the order given (objects of ``JSONValue`` in key order, for a stable form).
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    /// `{members…, extra…}`: `extra` writes further members after `members`.
    mutating func object(_ members: [(String, JSONValue)], extra: (inout JSONWriter) -> Void = { _ in }) {
        bytes.append(UInt8(ascii: "{"))
        for (key, value) in members {
            member(key) { $0.value(value) }
        }
        extra(&self)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func member(_ key: String, _ write: (inout JSONWriter) -> Void) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        write(&self)
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .number(let number):
            let integral = number.rounded() == number && abs(number) < 1e15
            bytes += Array((integral ? String(Int64(number)) : "\(number)").utf8)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members): object(members.sorted { $0.key < $1.key })
        }
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): bytes += Array(#"\\"#.utf8)
            case 0x0A: bytes += Array(#"\n"#.utf8)
            case 0x0D: bytes += Array(#"\r"#.utf8)
            case 0x09: bytes += Array(#"\t"#.utf8)
            case ..<0x20: bytes += Array(String(format: "\\u%04x", byte).utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
