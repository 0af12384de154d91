import Crypto
import Foundation

/// Signatures over exact body bytes: `X-Jelou-Signature` (§5.1, §6) and Standard Webhooks.
///
/// Pure functions over bytes, no HTTP or database types, so they are tested against fixed vectors
/// and used identically by the dispatcher (signing) and the panel webhook (verifying).
package enum WebhookSignature {
    /// `sha256=<lowercase hex HMAC-SHA256(key = secret UTF-8, message = body)>`.
    package static func jelou(secret: String, body: [UInt8]) -> String {
        jelou(key: SigningKey(secret: secret), body: body)
    }

    /// ``jelou(secret:body:)`` with the key prepared once (the dispatcher keeps one per secret).
    package static func jelou(key: SigningKey, body: [UInt8]) -> String {
        "sha256=" + Hex.encode(key.authenticationCode(body))
    }

    /// Whether `header` is a valid `X-Jelou-Signature` of `body` under any of `secrets`.
    /// The comparison is constant-time (swift-crypto's `isValidAuthenticationCode`).
    package static func verifyJelou(header: String?, body: [UInt8], secrets: [String]) -> Bool {
        guard let header, header.hasPrefix("sha256="), let mac = Hex.decode(String(header.dropFirst(7))),
            mac.count == SHA256.byteCount
        else { return false }
        var valid = false
        for secret in secrets {  // every secret is tried, so timing does not tell which one matched
            let key = SymmetricKey(data: Array(secret.utf8))
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) { valid = true }
        }
        return valid
    }

    /// `webhook-signature` of Standard Webhooks: `v1,<base64 HMAC of "{id}.{timestamp}.{body}">` per secret,
    /// space-separated. The key is the secret's UTF-8 bytes (for the libraries: `whsec_` + Base64 of them).
    package static func standard(secrets: [String], id: String, timestamp: Int64, body: [UInt8]) -> String {
        standard(keys: secrets.map(SigningKey.init(secret:)), id: id, timestamp: timestamp, body: body)
    }

    /// ``standard(secrets:id:timestamp:body:)`` with the keys prepared once.
    package static func standard(keys: [SigningKey], id: String, timestamp: Int64, body: [UInt8]) -> String {
        let prefix = Array("\(id).\(timestamp).".utf8)
        return keys.map { key in "v1," + Data(key.authenticationCode(prefix, body)).base64EncodedString() }.joined(separator: " ")
    }

    /// The secret in the form Standard Webhooks libraries take.
    package static func standardSecret(_ secret: String) -> String {
        "whsec_" + Data(secret.utf8).base64EncodedString()
    }
}
