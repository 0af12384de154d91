import Foundation

/// How the stored `authorization` is presented to the panel (§5.1).
public enum PanelCredential {
    /// The header name and value that carry `authorization` for `type`, or nil for `no_auth`.
    public static func header(for type: AuthType, authorization: String) -> (name: String, value: String)? {
        switch type {
        case .noAuth: nil
        case .bearer: ("Authorization", "Bearer \(authorization)")
        case .apiKey: ("X-API-Key", authorization)
        case .basic: basicToken(authorization).map { ("Authorization", "Basic \($0)") }
        }
    }

    /// `user:password` is Base64-encoded; a value that already is Base64 of `user:password` is sent as is.
    static func basicToken(_ value: String) -> String? {
        if value.contains(":") { return Data(value.utf8).base64EncodedString() }
        if let decoded = Data(base64Encoded: value), let text = String(data: decoded, encoding: .utf8), text.contains(":") {
            return value
        }
        return nil
    }
}
