import Crypto

/// API key material: generation and the hash under which a key is stored and looked up.
///
/// Keys carry 256 random bits, so a single SHA-256 is enough to store them (no slow KDF is
/// needed against guessing), and lookup by hash is one indexed read.
package enum APIKey {
    /// Prefix that makes leaked keys easy to spot by secret scanners.
    package static let prefix = "rlv_"

    /// A new key: `rlv_` + 64 hex characters (32 random bytes).
    package static func generate() -> String { prefix + SecureRandom.hex(byteCount: 32) }

    /// Lowercase hex SHA-256 of the key's UTF-8 bytes.
    package static func hash(_ key: String) -> String { Hex.encode(SHA256.hash(data: Array(key.utf8))) }
}
