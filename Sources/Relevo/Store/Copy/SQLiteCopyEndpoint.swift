import Foundation
import GRDB

/// A SQLite file as one side of a copy. A source is opened read-only and never migrated. A target is
/// a new file, built under a temporary name and renamed into place once complete (an interrupted
/// copy leaves no target, and the temporary file is replaced by the next run), with what only SQLite
/// keeps derived from the copied rows: event bodies apart, the padding a settlement gives back, and
/// the history's place among the events (its index is built by the store afterwards, as for any write).
package final class SQLiteCopyEndpoint: CopyEndpoint, @unchecked Sendable {
    private let queue: DatabaseQueue
    /// For a target: where the file goes once complete; nil for a source or once there.
    private var destination: String?
    private let path: String

    private init(queue: DatabaseQueue, path: String, destination: String?) {
        self.queue = queue
        self.path = path
        self.destination = destination
    }

    package static func source(path: String) throws -> SQLiteCopyEndpoint {
        var configuration = Configuration()
        configuration.readonly = true
        return SQLiteCopyEndpoint(queue: try DatabaseQueue(path: path, configuration: configuration), path: path, destination: nil)
    }

    package static func target(path: String) async throws -> SQLiteCopyEndpoint {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreCopy.Failure(description: "\(path) already exists; copy into a new SQLite file")
        }
        let building = path + ".copying"
        removeFiles(of: building)
        try await SQLiteStore(path: building).close()  // creates and migrates
        return SQLiteCopyEndpoint(queue: try DatabaseQueue(path: building), path: building, destination: path)
    }

    private static func removeFiles(of path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    package func migrations() async throws -> (applied: Set<String>, known: Set<String>) {
        let applied = try await queue.read { db in
            try db.tableExists("grdb_migrations") ? Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) : []
        }
        return (applied, Set(SQLiteMigrations.migrator.migrations))
    }

    package func count(_ table: CopyTable) async throws -> Int {
        try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0 }
    }

    package func read(_ table: CopyTable, after key: [CopyValue]?, limit: Int) async throws -> (rows: [[CopyValue]], last: [CopyValue]?) {
        let events = table.name == "events"
        let columns = table.columns.map { events ? ($0.name == "body" ? "b.body" : "e.\($0.name)") : $0.name }
        let keys = table.key.map { events ? "e.\($0)" : $0 }
        let from = events ? "events e JOIN event_bodies b ON b.seq = e.seq" : table.name
        let after = key == nil ? "" : "WHERE (\(keys.joined(separator: ", "))) > (\(keys.map { _ in "?" }.joined(separator: ", ")))"
        let sql = "SELECT \((columns + keys).joined(separator: ", ")) FROM \(from) \(after) ORDER BY \(keys.joined(separator: ", ")) LIMIT ?"
        let arguments = StatementArguments((key ?? []).map(\.databaseValue) + [limit.databaseValue])
        let rows = try await queue.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in (0..<row.count).map { Self.copyValue(row[$0]) } }
        }
        return (rows.map { Array($0.prefix(table.columns.count)) }, rows.last.map { Array($0.dropFirst(table.columns.count)) })
    }

    private static func copyValue(_ value: DatabaseValue?) -> CopyValue {
        switch value?.storage {
        case nil, .null?: .null
        case .int64(let integer)?: .integer(integer)
        case .double(let double)?: .integer(Int64(double))
        case .string(let text)?: .text(text)
        case .blob(let data)?: .blob(Array(data))
        }
    }

    package func sealedSamples() async throws -> [(sealed: String, context: String)] {
        try await queue.read { db in
            let integrations = try Row.fetchAll(db, sql: "SELECT id, signing_secret_sealed FROM integrations ORDER BY updated_at DESC LIMIT 3")
                .map { (sealed: $0["signing_secret_sealed"] as String, context: IntegrationService.signingContext($0["id"])) }
            let bots = try Row.fetchAll(db, sql: "SELECT project_id, id, channel_secret_sealed FROM bots ORDER BY updated_at DESC LIMIT 3")
                .map {
                    (sealed: $0["channel_secret_sealed"] as String, context: BotService.secretContext(projectId: $0["project_id"], botId: $0["id"]))
                }
            return integrations + bots
        }
    }

    package func writeAll(
        _ fill: @escaping @Sendable (_ insert: @Sendable (CopyTable, [[CopyValue]]) async throws -> Void) async throws -> Void
    ) async throws {
        // Batch by batch, each its own transaction: the file is not in place until ``finish()``.
        try await fill { table, rows in
            let (sql, body) = Self.insertion(table)
            try await self.queue.write { db in
                for row in rows {
                    try db.run(sql: sql, row.enumerated().filter { $0.offset != body }.map(\.element.parameter))
                    if let body { try db.run(sql: Self.insertBody, [row[body].parameter]) }
                }
            }
        }
    }

    /// The INSERT of one row of `table`, and for events the position of the body, which goes to
    /// `event_bodies` (``insertBody``) rather than to the row.
    private static func insertion(_ table: CopyTable) -> (sql: String, body: Int?) {
        var names = table.columns.map(\.name)
        let body = table.name == "events" ? names.firstIndex(of: "body") : nil
        if let body { names.remove(at: body) }
        var values = names.indices.map { "?\($0 + 1)" }
        if table.name == "events", let finished = names.firstIndex(of: "finished_at") {
            // An unsettled event carries the bytes its settlement gives back (see migration 007).
            names.append("settle_room")
            values.append("CASE WHEN ?\(finished + 1) IS NULL THEN zeroblob(8) END")
        }
        if table.name == "messages" {
            // Placed after every event: the history keeps its own order (by seq) among the messages.
            names.append("after_event")
            values.append("(SELECT COALESCE(MAX(seq), 0) FROM events)")
        }
        return ("INSERT INTO \(table.name) (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))", body)
    }

    private static let insertBody = "INSERT INTO event_bodies (seq, body) VALUES (last_insert_rowid(), ?)"

    package func finish() async throws {
        guard let destination else { return }
        try queue.close()
        try FileManager.default.moveItem(atPath: path, toPath: destination)
        self.destination = nil
    }

    package func close() async throws {
        try? queue.close()
        if destination != nil { Self.removeFiles(of: path) }
    }
}

extension CopyValue {
    fileprivate var databaseValue: DatabaseValue {
        switch self {
        case .text(let text): text.databaseValue
        case .integer(let integer): integer.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        case .null: .null
        }
    }

    fileprivate var parameter: SQLiteParameter {
        switch self {
        case .text(let text): .text(text)
        case .integer(let integer): .integer(integer)
        case .blob(let bytes): .blob(bytes)
        case .null: .null
        }
    }
}
