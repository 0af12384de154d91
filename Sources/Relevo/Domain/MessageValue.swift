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
}
