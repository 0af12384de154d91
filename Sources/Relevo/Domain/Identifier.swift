/// The rule every id in a path or body follows (§9): 1–128 characters of `[A-Za-z0-9._:-]`.
///
/// Checked before any lookup so that a malformed id is a validation error, never a 500 and
/// never a query with surprising input.
package enum Identifier {
    package static let maximumLength = 128

    package static func isValid(_ candidate: String) -> Bool {
        let utf8 = candidate.utf8
        guard !utf8.isEmpty, utf8.count <= maximumLength else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// A new random id: 24 lowercase hex characters (96 bits), the shape of the ids Jelou returns.
    package static func generate() -> String { SecureRandom.hex(byteCount: 12) }
}
