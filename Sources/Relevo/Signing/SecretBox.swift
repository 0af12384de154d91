import Crypto
import Foundation
import Synchronization

/// Encrypts secrets at rest with AES-256-GCM under the operator's master key.
///
/// Each secret is bound to its row and purpose through the associated data (for example
/// `integration:P:signingSecret`), so a ciphertext copied into another row does not open.
///
/// Every delivery attempt signs with the integration's secret, so opened secrets are kept in a small
/// cache keyed by their sealed form and context: the same ciphertext always opens to the same text,
/// and a regenerated secret is a new ciphertext.
package struct SecretBox: Sendable {
    /// Raw key bytes; `SymmetricKey` is not `Sendable` in this swift-crypto, so it is made per call.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private let opened = OpenedSecrets()
    private static let cacheLimit = 4096

    package init(masterKey: [UInt8]) throws(MasterKeyError) {
        guard masterKey.count == 32 else { throw .wrongLength }
        self.keyBytes = masterKey
    }

    /// A box for one purpose, under a key derived from this one (HKDF-SHA256) and with its own cache:
    /// tokens handed to clients (event-log cursors, sealed on every page) never use the key that seals
    /// the stored secrets, nor crowd their opened texts out of the cache.
    package func derived(for purpose: String) -> SecretBox {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array(purpose.utf8), outputByteCount: 32)
        return try! SecretBox(masterKey: derived.withUnsafeBytes { Array($0) })  // 32 bytes, as asked
    }

    package func seal(_ plaintext: String, context: String) -> SealedSecret {
        // AES-GCM with a fresh random nonce cannot fail for inputs of this size.
        let box = try! AES.GCM.seal(Array(plaintext.utf8), using: key, authenticating: Array(context.utf8))
        return SealedSecret(storedForm: "v1." + box.combined!.base64EncodedString())
    }

    /// The plaintext, or nil when the value was sealed with another key or for another context.
    package func open(_ sealed: SealedSecret, context: String) -> String? {
        let cacheKey = OpenedSecrets.Key(context: context, sealed: sealed.storedForm)
        if let plaintext = opened.texts.withLock({ $0[cacheKey] }) { return plaintext }
        guard let plaintext = decrypt(sealed, context: context) else { return nil }
        opened.texts.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[cacheKey] = plaintext
        }
        return plaintext
    }

    private func decrypt(_ sealed: SealedSecret, context: String) -> String? {
        guard sealed.storedForm.hasPrefix("v1."),
            let combined = Data(base64Encoded: String(sealed.storedForm.dropFirst(3))),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Array(context.utf8))
        else { return nil }
        return String(decoding: plaintext, as: UTF8.self)
    }
}

/// The cache of ``SecretBox/open(_:context:)``, shared by the box's copies.
private final class OpenedSecrets: Sendable {
    /// The two texts as they are (joining them into one key would allocate twice per lookup).
    struct Key: Hashable {
        let context: String
        let sealed: String
    }

    let texts = Mutex<[Key: String]>([:])
}

/// Why no master key could be had.
package enum MasterKeyError: Error, CustomStringConvertible, Equatable {
    case wrongLength
    case unreadableFile(String)
    case cannotCreateFile(String)
    /// A shared database has no file beside it; every instance must be given the same key.
    case requiredForSharedDatabase
    /// The key opens none of the secrets already stored: every delivery would fail. `createdFile`:
    /// the key file that was just made for it (and removed again), when there was none.
    case doesNotOpenStoredSecrets(createdFile: String?)

    package var description: String {
        switch self {
        case .wrongLength: "the master key must be 32 bytes, given as 64 hex characters or Base64"
        case .unreadableFile(let path): "the master key file \(path) cannot be read or does not hold a valid key"
        case .cannotCreateFile(let path): "the master key file \(path) cannot be created"
        case .requiredForSharedDatabase:
            "on PostgreSQL, set RELEVO_MASTER_KEY (64 hex characters, e.g. from `openssl rand -hex 32`), the same on every instance"
        case .doesNotOpenStoredSecrets(nil):
            "the master key does not open the secrets stored in this database: start with the key it was created with "
                + "(RELEVO_MASTER_KEY, or the relevo.key file beside a SQLite database)"
        case .doesNotOpenStoredSecrets(let path?):
            "the database holds secrets but no key file was beside it (\(path)): restore the relevo.key it was created with, "
                + "or set RELEVO_MASTER_KEY"
        }
    }
}
