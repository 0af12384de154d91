import Crypto

/// A signing secret with its HMAC-SHA256 key prepared once.
///
/// Every delivery attempt signs its body twice (`X-Jelou-Signature` and `webhook-signature`) with
/// the same integration secret. Preparing an HMAC key (the secret padded, then hashed into the inner
/// and outer states, with a few allocations) costs more than hashing a message of an event's size;
/// a prepared key only copies those two states per signature.
package struct SigningKey: @unchecked Sendable {
    // @unchecked: `HMAC` is not marked Sendable, but it is a value whose hash states are copied on
    // write and only read by `finalize()`, so each signature works on its own copy.
    private let prepared: HMAC<SHA256>

    package init(secret: String) {
        prepared = HMAC(key: SymmetricKey(data: Array(secret.utf8)))
    }

    /// HMAC-SHA256 of the concatenation of `parts`, without concatenating them.
    func authenticationCode(_ parts: [UInt8]...) -> HashedAuthenticationCode<SHA256> {
        var mac = prepared
        for part in parts { mac.update(data: part) }
        return mac.finalize()
    }
}
