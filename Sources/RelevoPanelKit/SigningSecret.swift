import Crypto
import Foundation

/// A project's signing secret, as an HMAC-SHA256 key.
///
/// Relevo shows the secret as 64 hex characters and signs with that text's UTF-8 bytes. Standard
/// Webhooks libraries take the same key as `whsec_` followed by the Base64 of those bytes; both
/// forms are accepted here and mean the same key.
///
/// ```swift
/// let secret = SigningSecret("339e4f338c0cd1426fa7136a57749c97446d2073ba8d8a588876c3545ab5c3d9")
/// let header = secret.jelouSignature(of: Array(body.utf8))  // "sha256=…"
/// ```
public struct SigningSecret: Sendable, Hashable, CustomStringConvertible {
    /// The HMAC key bytes.
    let key: [UInt8]

    /// The secret as Relevo shows it, or in the `whsec_` form of Standard Webhooks libraries.
    public init(_ text: String) {
        if text.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(text.dropFirst(6))), !decoded.isEmpty {
            key = Array(decoded)
        } else {
            key = Array(text.utf8)
        }
    }

    /// Never the secret itself: a secret printed by mistake must not end up in a log.
    public var description: String { "SigningSecret(…)" }

    /// `sha256=<lowercase hex HMAC-SHA256 of body>`: the `X-Jelou-Signature` header of `body`.
    public func jelouSignature(of body: some Sequence<UInt8>) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: Array(body), using: SymmetricKey(data: key)).hexadecimal
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: one entry of a `webhook-signature` header.
    public func standardSignature(id: String, timestamp: Int64, body: some Sequence<UInt8>) -> String {
        "v1," + Data(standardCode(id: id, timestamp: timestamp, body: Array(body))).base64EncodedString()
    }

    func standardCode(id: String, timestamp: Int64, body: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        return mac.finalize()
    }

    /// Whether `code` is the HMAC of `message` under this secret, compared in constant time. An
    /// empty secret (an unset setting) authenticates nothing: anyone could compute its codes.
    func authenticates(_ code: [UInt8], of message: [UInt8]) -> Bool {
        !key.isEmpty
            && HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: SymmetricKey(data: key))
    }
}

extension Sequence<UInt8> {
    var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
