/// A secret encrypted with the master key (AES-GCM), as it rests in the store.
///
/// A distinct type so that plaintext and ciphertext cannot be mixed up: only ``SecretBox`` makes
/// or opens one.
package struct SealedSecret: Sendable, Equatable {
    /// `v1.` followed by Base64 of nonce ‖ ciphertext ‖ tag.
    package let storedForm: String

    package init(storedForm: String) { self.storedForm = storedForm }
}

extension SealedSecret {
    /// The stored form in URL-safe Base64 without padding, for tokens handed to clients (cursors,
    /// visitor tokens), which go back in query strings and headers unchanged.
    var urlSafeForm: String {
        String(storedForm.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.filter { $0 != "=" })
    }

    /// The sealed value of a ``urlSafeForm`` of at most `maximumLength` bytes; nil for anything else.
    init?(urlSafeForm text: String, maximumLength: Int) {
        guard text.utf8.count <= maximumLength, text.hasPrefix("v1."),
            text.allSatisfy({ $0.isASCII && $0 != "+" && $0 != "/" && $0 != "=" })
        else { return nil }
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        standard += String(repeating: "=", count: (4 - (standard.utf8.count - 3) % 4) % 4)  // Base64 after `v1.`
        self.init(storedForm: standard)
    }
}
