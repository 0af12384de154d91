import Foundation
import Synchronization

/// `relevo copy`: a whole store moved from one database to another, SQLite to PostgreSQL or back,
/// with what makes it the same deployment: key hashes (API keys keep working), sealed secrets as
/// they are (panels keep verifying with the secrets they hold), the history, the outbox with its
/// attempts and its order (pending and held deliveries go out later with their `webhook-id`), and
/// idempotency records.
///
/// Nothing is written until every check passed: both databases reachable and at this build's
/// schema, no server holding a SQLite source or target, the master key opening the source's
/// secrets, an empty target. The target is written in one transaction, so an interrupted copy
/// leaves it empty, ready for the copy to run again.
package enum StoreCopy {
    /// Why a copy was refused or failed.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// A table's rows on each side once copied.
    package struct Count: Sendable {
        package let table: String
        /// Rows read from the source.
        package let source: Int
        /// Rows in the target once written.
        package let target: Int
    }

    /// Rows per read and per insert.
    static let batch = 500

    /// Copies `from` into `to`; `masterKey` is `RELEVO_MASTER_KEY` when set. `progress` gets a line
    /// now and then on long copies. Returns the counts of both sides, which are equal.
    package static func run(from: String, to: String, masterKey: String?, progress: @escaping @Sendable (String) -> Void)
        async throws -> (counts: [Count], keyFile: String?)
    {
        let source = try location(from, "--from"), target = try location(to, "--to")
        guard source != target else { throw Failure(description: "--from and --to name the same database") }
        // No server may hold a SQLite side: a source would go on changing, a target be served half-written.
        var locks: [SQLiteServerLock] = []
        for case .sqlite(let path) in [source, target] {
            do {
                locks.append(try SQLiteServerLock(path: path))
            } catch {
                throw Failure(description: "\(error): stop it before copying")
            }
        }
        defer { withExtendedLifetime(locks) {} }
        if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
            throw Failure(description: "no SQLite database at \(path)")
        }

        let reader = try await open(source, asSource: true)
        do {
            try await checkSchema(reader, side: "the source")
            let key = try Self.masterKey(masterKey, for: source)
            try await checkKey(key.bytes, opens: reader)
            let writer = try await open(target, asSource: false)
            do {
                try await checkSchema(writer, side: "the target")
                try await checkEmpty(writer)
                let keyFile = try placeKey(key.file, beside: target)
                let copied = Mutex<[String: Int]>([:])
                try await writer.writeAll { insert in
                    for table in CopyTable.all {
                        let total = try await reader.count(table)
                        var count = 0
                        var after: [CopyValue]? = nil
                        while true {
                            let page = try await reader.read(table, after: after, limit: batch)
                            if page.rows.isEmpty { break }
                            try await insert(table, page.rows)
                            count += page.rows.count
                            after = page.last
                            if total >= 10 * batch, count % (10 * batch) == 0 { progress("\(table.name): \(count) of \(total)") }
                        }
                        copied.withLock { $0[table.name] = count }
                    }
                }
                var counts: [Count] = []
                for table in CopyTable.all {
                    counts.append(Count(table: table.name, source: copied.withLock { $0[table.name] ?? 0 }, target: try await writer.count(table)))
                }
                if let different = counts.first(where: { $0.source != $0.target }) {
                    throw Failure(
                        description: "\(different.table): \(different.source) rows in the source, \(different.target) in the target")
                }
                try await writer.finish()
                try await writer.close()
                try await reader.close()
                return (counts, keyFile)
            } catch {
                try? await writer.close()
                throw error
            }
        } catch {
            try? await reader.close()
            if let failure = error as? Failure { throw failure }
            throw Failure(description: "\(error)")
        }
    }

    private static func location(_ text: String, _ option: String) throws -> DatabaseLocation {
        do {
            return try DatabaseLocation.parse(text)
        } catch {
            throw Failure(description: "\(option): \(error)")
        }
    }

    private static func open(_ location: DatabaseLocation, asSource: Bool) async throws -> any CopyEndpoint {
        do {
            switch location {
            case .sqlite(let path):
                return asSource ? try SQLiteCopyEndpoint.source(path: path) : try await SQLiteCopyEndpoint.target(path: path)
            case .postgres(let url):
                return try await PostgresCopyEndpoint.open(url: url, migrating: !asSource)
            }
        } catch {
            throw Failure(description: "\(asSource ? "--from" : "--to"): \(error)")
        }
    }

    private static func checkSchema(_ endpoint: any CopyEndpoint, side: String) async throws {
        let (applied, known) = try await endpoint.migrations()
        guard !applied.isEmpty else { throw Failure(description: "\(side) is not a Relevo database") }
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else {
            throw Failure(
                description: "\(side) was written by a newer relevo (migrations \(unknown.sorted().joined(separator: ", "))); copy with that version")
        }
        guard applied == known else {
            throw Failure(description: "\(side) is at an older schema: start relevo serve on it once (it migrates), then copy")
        }
    }

    /// The master key, from `RELEVO_MASTER_KEY` or else the key file beside a SQLite source (never
    /// created here), and the file it came from.
    private static func masterKey(_ environment: String?, for source: DatabaseLocation) throws -> (bytes: [UInt8], file: URL?) {
        if let environment, !environment.isEmpty {
            guard let key = MasterKey.parse(environment) else {
                throw Failure(description: "RELEVO_MASTER_KEY must be 64 hex characters or Base64 of 32 bytes")
            }
            return (key, nil)
        }
        guard let file = source.keyFileURL else {
            throw Failure(description: "set RELEVO_MASTER_KEY: the source's secrets open only with its master key")
        }
        do {
            return (try MasterKey.read(file), file)
        } catch {
            throw Failure(description: "\(error); set RELEVO_MASTER_KEY")
        }
    }

    private static func checkKey(_ key: [UInt8], opens source: any CopyEndpoint) async throws {
        let secrets = try SecretBox(masterKey: key)
        for sample in try await source.sealedSamples() where secrets.open(SealedSecret(storedForm: sample.sealed), context: sample.context) == nil {
            throw Failure(
                description: "the master key does not open the source's secrets (another RELEVO_MASTER_KEY, or a relevo.key of another database)")
        }
    }

    private static func checkEmpty(_ target: any CopyEndpoint) async throws {
        for table in CopyTable.all {
            let count = try await target.count(table)
            guard count == 0 else {
                throw Failure(
                    description:
                        "the target already holds data (\(count) rows in \(table.name)); copy into a new SQLite file or an empty PostgreSQL database")
            }
        }
    }

    /// A SQLite target gets the source's key file beside it (the same key opens the copied secrets).
    private static func placeKey(_ file: URL?, beside target: DatabaseLocation) throws -> String? {
        guard let file, let destination = target.keyFileURL else { return nil }
        do {
            try MasterKey.copyFile(file, to: destination)
        } catch {
            throw Failure(description: "\(error)")
        }
        return destination.path
    }
}
