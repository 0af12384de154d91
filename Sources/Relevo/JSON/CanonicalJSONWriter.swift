/// Serializes ``JSONValue`` exactly as Node.js `JSON.stringify` would.
///
/// The contract (§1.2) requires every body sent to a panel or channel to equal
/// `JSON.stringify(JSON.parse(body))`, because Jelou's documented verification snippet
/// re-serializes before computing the HMAC. Responses use the same writer so there is one byte form.
package enum CanonicalJSONWriter {
    /// The UTF-8 bytes of `value` in JavaScript canonical form.
    package static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    package static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: javaScriptNumber(number).utf8)
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (offset, member) in javaScriptOrder(members).enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// JavaScript enumerates array-index keys ("0" … "4294967294") first, ascending, then the
    /// other keys in insertion order. Relevo's own keys are never index-like, so this only
    /// reorders user-supplied objects.
    static func javaScriptOrder(_ members: [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        guard members.contains(where: { arrayIndex($0.key) != nil }) else { return members }
        let indexed = members.compactMap { member in arrayIndex(member.key).map { (index: $0, member: member) } }
            .sorted { $0.index < $1.index }
            .map(\.member)
        return indexed + members.filter { arrayIndex($0.key) == nil }
    }

    /// The canonical array index a key denotes, if any (no leading zeros, below 2^32 − 1).
    static func arrayIndex(_ key: String) -> UInt32? {
        let utf8 = key.utf8
        guard let first = utf8.first, utf8.count <= 10, first != UInt8(ascii: "0") || utf8.count == 1,
            utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = UInt64(key), value < 4_294_967_295
        else { return nil }
        return UInt32(value)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them in one go.
        var text = text
        let copied = text.withUTF8 { bytes -> Bool in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript `Number::toString(x)` for finite `x`, built from Swift's shortest round-trip digits.
    static func javaScriptNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }  // JSON.stringify writes NaN and ±Infinity as null
        if value == 0 { return "0" }  // also -0
        if value.magnitude < 9_007_199_254_740_992, value == value.rounded() {
            return String(Int64(value))
        }
        let (digits, n) = shortestDigits(value.magnitude)
        let k = digits.count
        var result = value < 0 ? "-" : ""
        if k <= n && n <= 21 {
            result += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            result += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            result += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let exponent = n - 1
            let sign = exponent < 0 ? "-" : "+"
            result += digits.prefix(1) + (k > 1 ? "." + digits.dropFirst() : "") + "e" + sign + String(exponent.magnitude)
        }
        return result
    }

    /// The significant digits `s` and decimal exponent `n` with `s × 10^(n − k) = value`.
    private static func shortestDigits(_ value: Double) -> (digits: String, n: Int) {
        let text = value.description  // shortest digits that round-trip, e.g. "1.2345e+21", "0.001"
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1])! : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = String(pieces[0])
        let fractionPart = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = Substring(integerPart + fractionPart)
        var n = integerPart.count + exponent
        while digits.first == "0" { digits = digits.dropFirst(); n -= 1 }
        while digits.last == "0" { digits = digits.dropLast() }
        return (String(digits), n)
    }
}
