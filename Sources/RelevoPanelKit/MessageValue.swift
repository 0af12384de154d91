/// A message as events and replies carry it: `{"id", "type", "content"}`.
///
/// ```swift
/// let reply = MessageValue(id: "agent-1", content: .text("Ya lo reviso"))
/// if case .image(let url, _, let caption) = message.content { show(url, caption) }
/// ```
public struct MessageValue: Sendable, Hashable, Codable {
    /// The sender's id for the message, unique in the project (a resend with the same id is the same message).
    public var id: String
    /// What the message holds; it also gives the wire `type`.
    public var content: MessageContent

    /// A message with the sender's `id` (1–128 characters of `A-Za-z0-9._:-`) and its `content`.
    public init(id: String, content: MessageContent) {
        self.id = id
        self.content = content
    }

    /// `text`, `image`, `video`, `audio`, `document`, or a type this SDK does not know.
    public var type: String { content.type }

    private enum Keys: String, CodingKey { case id, type, content }

    /// Decodes `{"id", "type", "content"}`; a content that does not fit its type throws ``PanelEventError``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try container.decode(String.self, forKey: .id)
        let type = try container.decode(String.self, forKey: .type)
        let fields = try container.decode(JSONValue.self, forKey: .content)
        do {
            content = try MessageContent(type: type, fields: fields, path: "content")
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .content, in: container, debugDescription: error.description)
        }
    }

    /// Encodes `{"id", "type", "content"}` with the wire names of the content's fields (`mime_type`…).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(content.fields, forKey: .content)
    }
}

/// What a message holds, by type (§4 of the API). Media travel by `https` URL; Relevo never fetches them.
///
/// ```swift
/// let text = MessageContent.text("Ya lo reviso")
/// let photo = MessageContent.image(url: "https://cdn.example.com/p.jpg", mimeType: "image/jpeg", caption: "foto")
/// if case .document(let url, _, let filename) = message.value.content { save(url, as: filename) }
/// ```
public enum MessageContent: Sendable, Hashable {
    /// `text`: the body, 1–4096 characters.
    case text(String)
    /// `image`: its URL, an `image/…` MIME type and an optional caption (at most 4096 characters).
    case image(url: String, mimeType: String, caption: String?)
    /// `video`: its URL, a `video/…` MIME type and an optional caption (at most 4096 characters).
    case video(url: String, mimeType: String, caption: String?)
    /// `audio`: its URL and an `audio/…` MIME type.
    case audio(url: String, mimeType: String)
    /// `document`: its URL, a `type/subtype` MIME type and an optional file name (at most 255 characters).
    case document(url: String, mimeType: String, filename: String?)
    /// A type this version of the SDK does not know, with its content as it came.
    case other(type: String, content: JSONValue)

    /// The wire `type`: `text`, `image`, `video`, `audio`, `document`, or the type of ``other(type:content:)``.
    public var type: String {
        switch self {
        case .text: "text"
        case .image: "image"
        case .video: "video"
        case .audio: "audio"
        case .document: "document"
        case .other(let type, _): type
        }
    }

    /// The `content` object of the wire form.
    var fields: JSONValue {
        func object(_ members: [String: String?]) -> JSONValue {
            .object(members.compactMapValues { $0.map(JSONValue.string) })
        }
        return switch self {
        case .text(let body): object(["body": body])
        case .image(let url, let mimeType, let caption), .video(let url, let mimeType, let caption):
            object(["url": url, "mime_type": mimeType, "caption": caption])
        case .audio(let url, let mimeType): object(["url": url, "mime_type": mimeType])
        case .document(let url, let mimeType, let filename): object(["url": url, "mime_type": mimeType, "filename": filename])
        case .other(_, let content): content
        }
    }

    init(type: String, fields: JSONValue, path: String) throws(PanelEventError) {
        func required(_ key: String) throws(PanelEventError) -> String {
            guard let value = fields[key] else { throw .missingField("\(path).\(key)") }
            guard let text = value.stringValue else { throw .wrongType("\(path).\(key)") }
            return text
        }
        func optional(_ key: String) throws(PanelEventError) -> String? {
            guard let value = fields[key], value != .null else { return nil }
            guard let text = value.stringValue else { throw .wrongType("\(path).\(key)") }
            return text
        }
        switch type {
        case "text": self = .text(try required("body"))
        case "image": self = .image(url: try required("url"), mimeType: try required("mime_type"), caption: try optional("caption"))
        case "video": self = .video(url: try required("url"), mimeType: try required("mime_type"), caption: try optional("caption"))
        case "audio": self = .audio(url: try required("url"), mimeType: try required("mime_type"))
        case "document":
            self = .document(url: try required("url"), mimeType: try required("mime_type"), filename: try optional("filename"))
        default: self = .other(type: type, content: fields)
        }
    }
}
