import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds the 32-byte master key that seals secrets at rest.
///
/// `RELEVO_MASTER_KEY` wins (what an operator with a secret manager uses). Otherwise a key file
/// beside the database is read, or created with mode 0600 on first start, so that a newcomer's
/// `relevo serve` is encrypted at rest without any setup.
package enum MasterKey {
    /// Parses 64 hex characters or Base64 of 32 bytes.
    package static func parse(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = Hex.decode(trimmed) { return bytes }
        if let data = Data(base64Encoded: trimmed), data.count == 32 { return Array(data) }
        return nil
    }

    /// The key from `environmentValue` if set, else from (or newly into) `fileURL`; with no file
    /// (a shared database), the environment value is required.
    package static func load(environmentValue: String?, fileURL: URL?) throws(MasterKeyError) -> [UInt8] {
        if let environmentValue, !environmentValue.isEmpty {
            guard let key = parse(environmentValue) else { throw .wrongLength }
            return key
        }
        guard let fileURL else { throw .requiredForSharedDatabase }
        let path = fileURL.path
        if FileManager.default.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let key = parse(text) else {
                throw .unreadableFile(path)
            }
            return key
        }
        let key = SecureRandom.bytes(32)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw .cannotCreateFile(path) }
        defer { close(descriptor) }
        let line = Array((Hex.encode(key) + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count, fsync(descriptor) == 0 else { throw .cannotCreateFile(path) }
        return key
    }
}
