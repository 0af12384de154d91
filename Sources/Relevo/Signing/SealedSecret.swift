/// A secret encrypted with the master key (AES-GCM), as it rests in the store.
///
/// A distinct type so that plaintext and ciphertext cannot be mixed up: only ``SecretBox`` makes
/// or opens one.
package struct SealedSecret: Sendable, Equatable {
    /// `v1.` followed by Base64 of nonce ‖ ciphertext ‖ tag.
    package let storedForm: String

    package init(storedForm: String) { self.storedForm = storedForm }
}
