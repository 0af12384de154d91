/// A message as it travels in events, the panel webhook and the channel API (§4):
/// `{"id", "type", "content"}` with content shaped by the type.
package struct MessageValue: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case text, image, video, audio, document
    }

    package let id: String
    package let kind: Kind
    /// The content object exactly as accepted (known fields only, in contract order).
    package let content: JSONValue

    /// In UTF-16 code units, as JavaScript's `length` counts (§4 "chars"): graphemes would let one
    /// "character" of twenty thousand combining accents through.
    static let maximumTextLength = 4096
    static let maximumURLLength = 2048

    /// The value as JSON, keys in contract order.
    package var json: JSONValue {
        .members(["id": .string(id), "type": .string(kind.rawValue), "content": content])
    }

    /// Reads and validates `value` (the field named `field` of a body), adding every problem to `errors`
    /// under `field.id`, `field.type` or `field.content.*`.
    static func read(_ value: JSONValue?, field: String = "value", into errors: inout ValidationErrors) -> MessageValue? {
        guard let value, value != .null else { errors.required(field); return nil }
        guard case .object = value else { errors.wrongType(field, expected: "object"); return nil }
        let id: String?
        switch value["id"] {
        case .string(let text)? where Identifier.isValid(text): id = text
        case nil, .null?: errors.required("\(field).id"); id = nil
        default: errors.invalidIdentifier("\(field).id"); id = nil
        }
        guard case .string(let typeText)? = value["type"], let kind = Kind(rawValue: typeText) else {
            errors.add("\(field).type", LocalizedText(
                en: "\(field).type must be one of text, image, video, audio, document",
                es: "\(field).type debe ser uno de text, image, video, audio, document",
                pt: "\(field).type deve ser um de text, image, video, audio, document"))
            return nil
        }
        guard case .object? = value["content"] else {
            errors.wrongType("\(field).content", expected: "object")
            return nil
        }
        let content = readContent(value["content"]!, kind: kind, field: "\(field).content", into: &errors)
        guard let id, let content else { return nil }
        return MessageValue(id: id, kind: kind, content: content)
    }

    private static func readContent(_ content: JSONValue, kind: Kind, field: String, into errors: inout ValidationErrors) -> JSONValue? {
        let before = errors.fields.count
        func string(_ name: String, required: Bool, maximum: Int) -> String? {
            switch content[name] {
            case nil, .null?:
                if required { errors.required("\(field).\(name)") }
                return nil
            case .string(let text)?:
                if required && text.isEmpty { errors.required("\(field).\(name)") }
                if text.javaScriptLength > maximum { errors.tooLong("\(field).\(name)", maximum: maximum) }
                return text
            default:
                errors.wrongType("\(field).\(name)", expected: "string")
                return nil
            }
        }
        if kind == .text {
            let body = string("body", required: true, maximum: maximumTextLength)
            return errors.fields.count == before ? .members(["body": body.map(JSONValue.string)]) : nil
        }
        let url = string("url", required: true, maximum: maximumURLLength)
        if let url, !url.isEmpty, (try? WebhookURL.parse(url, allowHTTP: false)) == nil {
            errors.add("\(field).url", LocalizedText(
                en: "\(field).url must be an absolute https URL", es: "\(field).url debe ser una URL https absoluta",
                pt: "\(field).url deve ser uma URL https absoluta"))
        }
        let mimeType = string("mime_type", required: true, maximum: 255)
        if let mimeType, !mimeType.isEmpty {
            let prefix: String? = switch kind { case .image: "image/"; case .video: "video/"; case .audio: "audio/"; default: nil }
            let shaped = mimeType.split(separator: "/").count == 2 && !mimeType.contains(" ")
            if !shaped || (prefix.map { !mimeType.lowercased().hasPrefix($0) } ?? false) {
                errors.add("\(field).mime_type", LocalizedText(
                    en: "\(field).mime_type must be a \(prefix ?? "type/subtype ")* media type",
                    es: "\(field).mime_type debe ser un tipo de medio \(prefix ?? "tipo/subtipo ")*",
                    pt: "\(field).mime_type deve ser um tipo de mídia \(prefix ?? "tipo/subtipo ")*"))
            }
        }
        let caption = (kind == .image || kind == .video) ? string("caption", required: false, maximum: maximumTextLength) : nil
        let filename = kind == .document ? string("filename", required: false, maximum: 255) : nil
        guard errors.fields.count == before else { return nil }
        return .members([
            "url": url.map(JSONValue.string), "mime_type": mimeType.map(JSONValue.string),
            "caption": caption.map(JSONValue.string), "filename": filename.map(JSONValue.string),
        ])
    }
}
