import Foundation
import RelevoPanelKit

/// The project's integration, as the API shows it: never the secret, never the credential.
public struct Integration: Sendable, Hashable, Decodable {
    public let id: String
    public let projectId: String
    public let webhookUrl: String
    /// `no_auth`, `bearer`, `api_key` or `basic`.
    public let authType: String
    public let createdAt: Date
    public let updatedAt: Date

    private enum CodingKeys: String, CodingKey {
        case id, webhookUrl, authType, createdAt, updatedAt
        case projectId = "brainId"
    }
}

/// A created integration and its signing secret, which the API shows only this once.
public struct CreatedIntegration: Sendable, Hashable, Decodable {
    public let integration: Integration
    public let signingSecret: String

    public init(from decoder: any Decoder) throws {
        integration = try Integration(from: decoder)
        signingSecret = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .signingSecret)
    }

    private enum Keys: String, CodingKey { case signingSecret }
}

/// A regenerated signing secret, shown only this once.
public struct RegeneratedSecret: Sendable, Hashable, Decodable {
    public let signingSecret: String
    public let regeneratedAt: Date
}

/// A conversation: one hand-off from start to close.
public struct Conversation: Sendable, Hashable, Decodable {
    public enum State: String, Sendable, Hashable, Decodable { case active, closed }

    public struct User: Sendable, Hashable, Decodable {
        public let id: String
        public let names: String
        public let referenceId: String?
    }

    public struct BotSummary: Sendable, Hashable, Decodable {
        public let id: String
        public let name: String
    }

    public let id: String
    public let roomId: String
    public let state: State
    public let startAt: Date
    public let endAt: Date?
    public let endedReason: String?
    public let assignment: Assignment?
    public let metadata: [String: JSONValue]
    public let user: User
    public let bot: BotSummary
    /// The history, when asked for (``RelevoClient/conversation(id:includeMessages:)``).
    public let messages: [HistoryMessage]?

    private enum CodingKeys: String, CodingKey {
        case roomId, state, startAt, endAt, endedReason, assignment, metadata, messages
        case id = "_id"
        case user = "User"
        case bot = "Bot"
    }
}

/// One message of a conversation's history.
public struct HistoryMessage: Sendable, Hashable, Decodable {
    public enum Direction: String, Sendable, Hashable, Decodable { case user, agent, system }

    public let direction: Direction
    public let value: MessageValue
    public let createdAt: Date

    private enum Keys: String, CodingKey { case direction, createdAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        direction = try container.decode(Direction.self, forKey: .direction)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        value = try MessageValue(from: decoder)  // id, type and content sit beside them
    }
}

/// An event of the event log: sent to the panel, or to a bot's channel.
public struct LoggedEvent: Sendable, Hashable, Decodable {
    public enum Status: String, Sendable, Hashable, Decodable { case pending, delivering, delivered, failed, cancelled, held }

    public let id: String
    /// `panel` or `channel`.
    public let destination: String
    public let botId: String?
    public let eventType: String
    public let status: Status
    public let conversationId: String?
    public let attemptCount: Int
    public let nextAttemptAt: Date?
    public let createdAt: Date
    public let finishedAt: Date?
    /// The body as sent (``RelevoClient/event(id:)`` only).
    public let body: JSONValue?
    /// Every attempt, oldest first (``RelevoClient/event(id:)`` only).
    public let attempts: [DeliveryAttempt]?
}

/// One attempt to deliver an event.
public struct DeliveryAttempt: Sendable, Hashable, Decodable {
    public let number: Int
    public let startedAt: Date
    public let durationMs: Int
    /// The HTTP status of the answer, or nil when there was none (see ``errorClass``).
    public let statusCode: Int?
    /// `timeout`, `connection_refused`, `tls`, `dns`, `blocked_address`, `redirect`…
    public let errorClass: String?
    /// The first 4 KiB of the answer's body.
    public let responseBody: String?
}

/// What the panel webhook answered to an agent's reply.
public struct ReplyReceipt: Sendable, Hashable, Decodable {
    public let messageId: String
    public let conversationId: String
}

/// One page of a list, newest first; `nextCursor` is nil on the last page.
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    public let items: [Item]
    public let nextCursor: String?
}

/// An answer other than 2xx: the error envelope's status, key and message.
public struct RelevoAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public let status: Int
    /// `INTEGRATION_NOT_FOUND`, `VALIDATOR_ERROR`, `INVALID_SIGNATURE`…; `HTTP_<status>` for an answer without an envelope.
    public let key: String
    /// The envelope's first message, in English.
    public let message: String
    /// For validation failures: each offending field and its problems, in English.
    public let fieldErrors: [String: [String]]

    init(status: Int, answer: Data) {
        self.status = status
        let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: answer)
        key = envelope?.error.key ?? "HTTP_\(status)"
        message = envelope?.message.first ?? String(decoding: answer.prefix(200), as: UTF8.self)
        fieldErrors = envelope?.validationError?.mapValues { $0.compactMap { $0["en"] } } ?? [:]
    }

    public var description: String {
        let fields = fieldErrors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: "; "))" }
        return "\(status) \(key): \(message)" + (fields.isEmpty ? "" : " (\(fields.joined(separator: ", ")))")
    }

    private struct ErrorEnvelope: Decodable {
        struct Detail: Decodable { let key: String }
        let message: [String]
        let error: Detail
        let validationError: [String: [[String: String]]]?
    }
}

/// The success envelope around every answer's `data`.
struct Envelope<Payload: Decodable>: Decodable {
    let data: Payload

    private enum Keys: String, CodingKey { case data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        // A delete answers without `data`.
        if Payload.self == Empty.self, !container.contains(.data) {
            data = Empty() as! Payload
        } else {
            data = try container.decode(Payload.self, forKey: .data)
        }
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISOTime.date(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }
}

struct Empty: Decodable {}

struct ConversationPage: Decodable {
    let conversations: [Conversation]
    let nextCursor: String?
}

struct EventPage: Decodable {
    let events: [LoggedEvent]
    let nextCursor: String?
}

struct RedeliveryCount: Decodable {
    let count: Int
}

/// The API's times: ISO-8601 UTC with milliseconds.
enum ISOTime {
    static func date(_ text: String) -> Date? {
        formatter(fractional: true).date(from: text) ?? formatter(fractional: false).date(from: text)
    }

    static func string(_ date: Date) -> String {
        formatter(fractional: true).string(from: date)
    }

    private static func formatter(fractional: Bool) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter
    }
}
