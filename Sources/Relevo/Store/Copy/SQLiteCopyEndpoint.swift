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

    package func read(_ table: CopyTable, offset: Int, limit: Int) async throws -> [[CopyValue]] {
        let columns = table.columns.map { column in
            table.name == "events" ? (column.name == "body" ? "b.body" : "e.\(column.name)") : column.name
        }
        let from = table.name == "events" ? "events e JOIN event_bodies b ON b.seq = e.seq" : table.name
        let order = table.name == "events" ? "e.seq" : table.order
        let sql = "SELECT \(columns.joined(separator: ", ")) FROM \(from) ORDER BY \(order) LIMIT ? OFFSET ?"
        return try await queue.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [limit, offset]).map { row in
                (0..<row.count).map { index in
                    switch row[index] as DatabaseValue? {
                    case nil: .null
                    case let value?:
                        switch value.storage {
                        case .null: .null
                        case .int64(let integer): .integer(integer)
                        case .double(let double): .integer(Int64(double))
                        case .string(let text): .text(text)
                        case .blob(let data): .blob(Array(data))
                        }
                    }
                }
            }
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
            try await self.queue.write { db in
                for row in rows { try Self.insert(row, into: table, db) }
            }
        }
    }

    private static func insert(_ row: [CopyValue], into table: CopyTable, _ db: Database) throws {
        var names = table.columns.map(\.name)
        var values = row.map(\.databaseValue)
        var extra = ""
        if table.name == "events" {
            let body = names.firstIndex(of: "body")!
            names.remove(at: body)
            let bodyValue = values.remove(at: body)
            let finished = values[names.firstIndex(of: "finished_at")!]
            // An unsettled event carries the bytes its settlement gives back (see migration 007).
            names.append("settle_room")
            extra = finished.isNull ? ", zeroblob(8)" : ", NULL"
            try db.execute(
                sql:
                    "INSERT INTO events (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", "))\(extra))",
                arguments: StatementArguments(values))
            try db.execute(sql: "INSERT INTO event_bodies (seq, body) VALUES (last_insert_rowid(), ?)", arguments: [bodyValue])
            return
        }
        if table.name == "messages" {
            // Placed after every event: the history keeps its own order (by seq) among the messages.
            names.append("after_event")
            extra = ", (SELECT COALESCE(MAX(seq), 0) FROM events)"
        }
        try db.execute(
            sql:
                "INSERT INTO \(table.name) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", "))\(extra))",
            arguments: StatementArguments(values))
    }

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
}
