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
        if FileManager.default.fileExists(atPath: path) { return try read(fileURL) }
        let key = SecureRandom.bytes(32)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw .cannotCreateFile(path) }
        defer { close(descriptor) }
        let line = Array((Hex.encode(key) + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count, fsync(descriptor) == 0 else { throw .cannotCreateFile(path) }
        return key
    }

    /// The key in an existing key file.
    package static func read(_ fileURL: URL) throws(MasterKeyError) -> [UInt8] {
        guard let text = try? String(contentsOf: fileURL, encoding: .utf8), let key = parse(text) else {
            throw .unreadableFile(fileURL.path)
        }
        return key
    }

    /// Puts a copy of the key file `source` at `destination` (mode 0600), beside a copy of its
    /// database; a file already there must hold the same key, or the copy would not open.
    package static func copyFile(_ source: URL, to destination: URL) throws(KeyFileCopyError) {
        let files = FileManager.default
        if files.fileExists(atPath: destination.path) {
            guard files.contentsEqual(atPath: source.path, andPath: destination.path) else {
                throw KeyFileCopyError(description: "\(destination.path) holds the key of another database; write to another directory")
            }
            return
        }
        do {
            try files.copyItem(at: source, to: destination)
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination.path)
        } catch {
            throw KeyFileCopyError(description: "cannot copy the key file to \(destination.path): \(error)")
        }
    }

    package struct KeyFileCopyError: Error, CustomStringConvertible {
        package let description: String
    }
}
