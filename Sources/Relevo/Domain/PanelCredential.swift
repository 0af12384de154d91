import Foundation

/// How the stored `authorization` is presented to the panel (§5.1).
package enum PanelCredential {
    /// The header name and value that carry `authorization` for `type`, or nil for `no_auth`.
    package static func header(for type: AuthType, authorization: String) -> (name: String, value: String)? {
        switch type {
        case .noAuth: nil
        case .bearer: ("Authorization", "Bearer \(authorization)")
        case .apiKey: ("X-API-Key", authorization)
        case .basic: basicToken(authorization).map { ("Authorization", "Basic \($0)") }
        }
    }

    /// `user:password` is Base64-encoded; a value that already is Base64 of `user:password` is sent as is.
    static func basicToken(_ value: String) -> String? {
        // The colon is looked for among the bytes: as a `Character`, ":" followed by a combining
        // mark is another character, and "user:\u{301}pw" would lose its separator.
        if value.utf8.contains(UInt8(ascii: ":")) { return Data(value.utf8).base64EncodedString() }
        if let decoded = Data(base64Encoded: value), String(data: decoded, encoding: .utf8) != nil, decoded.contains(UInt8(ascii: ":")) {
            return value
        }
        return nil
    }
}
