import Foundation
import GRDB

/// A consistent copy of a SQLite store, taken while a server may be writing to it: SQLite's online
/// backup in one step, under one read transaction, so the copy is the database as of one commit.
/// The source is opened read-only and never migrated; the copy is checked before it is reported.
package enum SQLiteBackup {
    /// Why a backup was refused or failed; nothing is left at the target then.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// What a backup wrote.
    package struct Result: Sendable {
        package let bytes: Int
        /// The master key file copied beside the backup (or found there already), when the source has one.
        package let keyFile: String?
    }

    /// Copies the database at `source` to the new file `target`, and the master key file beside the
    /// source, if any, beside the target: a backup opens only with the key its secrets were sealed with.
    package static func copy(from source: String, to target: String) throws(Failure) -> Result {
        let files = FileManager.default
        guard files.fileExists(atPath: source) else { throw Failure(description: "no SQLite database at \(source)") }
        guard !files.fileExists(atPath: target) else {
            throw Failure(description: "\(target) already exists; a backup is written to a new file")
        }
        let sourceKey = DatabaseLocation.sqlite(path: source).keyFileURL
        let targetKey = DatabaseLocation.sqlite(path: target).keyFileURL
        let keyToCopy = sourceKey.flatMap { files.fileExists(atPath: $0.path) ? $0 : nil }
        if let keyToCopy, let targetKey, files.fileExists(atPath: targetKey.path),
            !files.contentsEqual(atPath: keyToCopy.path, andPath: targetKey.path)
        {
            // Refused before anything is written (``MasterKey/copyFile(_:to:)`` would, after).
            throw Failure(description: "\(targetKey.path) holds the key of another database; write the backup to another directory")
        }
        do {
            try files.createDirectory(
                at: URL(fileURLWithPath: target).deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.readonly = true
            let from = try DatabaseQueue(path: source, configuration: configuration)
            let to = try DatabaseQueue(path: target)
            try from.backup(to: to)
            let check = try to.read { try String.fetchOne($0, sql: "PRAGMA quick_check") }
            try from.close()
            try to.close()
            guard check == "ok" else { throw Failure(description: "the copy does not pass SQLite's check: \(check ?? "no answer")") }
        } catch {
            try? files.removeItem(atPath: target)
            if let failure = error as? Failure { throw failure }
            throw Failure(description: "cannot back up \(source): \(error)")
        }
        if let keyToCopy, let targetKey {
            do {
                try MasterKey.copyFile(keyToCopy, to: targetKey)
            } catch {
                throw Failure(description: "the backup is at \(target), but: \(error)")
            }
        }
        let bytes = ((try? files.attributesOfItem(atPath: target))?[.size] as? Int) ?? 0
        return Result(bytes: bytes, keyFile: keyToCopy == nil ? nil : targetKey?.path)
    }
}
