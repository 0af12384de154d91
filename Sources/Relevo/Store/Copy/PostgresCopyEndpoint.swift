import Logging
import NIOCore
import PostgresNIO

/// A PostgreSQL database as one side of a copy. A source is read as it is (connected, not
/// migrated), its leases dropped: an event in flight is copied as pending, to be sent again. A target
/// is migrated, written in one transaction, and gets its delivery heads derived from the events.
package final class PostgresCopyEndpoint: CopyEndpoint {
    private let store: PostgresStore

    private init(store: PostgresStore) { self.store = store }

    package static func open(url: String, migrating: Bool) async throws -> PostgresCopyEndpoint {
        let store = try await PostgresStore.open(
            url: url, logger: Logger(label: "relevo.copy", factory: { _ in SwiftLogNoOpLogHandler() }), migrating: migrating)
        return PostgresCopyEndpoint(store: store)
    }

    package func migrations() async throws -> (applied: Set<String>, known: Set<String>) {
        let exists = try await store.rows("SELECT to_regclass('relevo_migrations') IS NOT NULL AS present")
        let applied: Set<String> =
            try exists.first?.value("present", as: Bool.self) == true
            ? Set(try await store.rows("SELECT id FROM relevo_migrations").map { try $0.value("id", as: String.self) }) : []
        return (applied, Set(PostgresMigrations.all.map(\.id)))
    }

    package func count(_ table: CopyTable) async throws -> Int {
        let rows = try await store.rows(PostgresQuery(unsafeSQL: "SELECT COUNT(*) AS count FROM \(table.name)"))
        return Int(try rows.first?.value("count", as: Int64.self) ?? 0)
    }

    package func read(_ table: CopyTable, after key: [CopyValue]?, limit: Int) async throws -> (rows: [[CopyValue]], last: [CopyValue]?) {
        let columns = table.columns.map { column -> String in
            switch (column.name, column.kind) {
            case ("status", _) where table.name == "events":
                "CASE WHEN status = 'delivering' THEN 'pending' ELSE status END AS status"
            case (let name, .integer): "\(name)::bigint AS \(name)"
            case (let name, _): name
            }
        }
        let keyKinds = table.key.map { name in table.columns.first { $0.name == name }?.kind ?? .integer }
        let keys = zip(table.key, keyKinds).enumerated().map { index, key in
            "\(key.0)\(key.1 == .integer ? "::bigint" : "") AS key\(index)"
        }
        var bindings = PostgresBindings()
        for value in key ?? [] { bindings.append(value) }
        let after =
            key == nil
            ? "" : "WHERE (\(table.key.joined(separator: ", "))) > (\((1...table.key.count).map { "$\($0)" }.joined(separator: ", ")))"
        let sql =
            "SELECT \((columns + keys).joined(separator: ", ")) FROM \(table.name) \(after) ORDER BY \(table.key.joined(separator: ", ")) LIMIT \(limit)"
        let rows = try await store.rows(PostgresQuery(unsafeSQL: sql, binds: bindings))
        func values(_ row: PostgresRandomAccessRow, _ names: [String], _ kinds: [CopyTable.Kind]) throws -> [CopyValue] {
            try zip(names, kinds).map { name, kind in
                switch kind {
                case .text: try row.value(name, as: String?.self).map(CopyValue.text) ?? .null
                case .integer: try row.value(name, as: Int64?.self).map(CopyValue.integer) ?? .null
                case .blob: try row.value(name, as: ByteBuffer?.self).map { .blob(Array($0.readableBytesView)) } ?? .null
                }
            }
        }
        let copied = try rows.map { try values($0, table.columns.map(\.name), table.columns.map(\.kind)) }
        let last = try rows.last.map { try values($0, table.key.indices.map { "key\($0)" }, keyKinds) }
        return (copied, last)
    }

    package func sealedSamples() async throws -> [(sealed: String, context: String)] {
        let integrations = try await store.rows("SELECT id, signing_secret_sealed FROM integrations ORDER BY updated_at DESC LIMIT 3")
            .map { (sealed: try $0.value("signing_secret_sealed", as: String.self), context: IntegrationService.signingContext(try $0.value("id"))) }
        let bots = try await store.rows("SELECT project_id, id, channel_secret_sealed FROM bots ORDER BY updated_at DESC LIMIT 3")
            .map {
                (
                    sealed: try $0.value("channel_secret_sealed", as: String.self),
                    context: BotService.secretContext(projectId: try $0.value("project_id"), botId: try $0.value("id"))
                )
            }
        return integrations + bots
    }

    package func writeAll(
        _ fill: @escaping @Sendable (_ insert: @Sendable (CopyTable, [[CopyValue]]) async throws -> Void) async throws -> Void
    ) async throws {
        // Not the store's bounded transaction: a whole copy may take minutes on one connection.
        try await store.client.withTransaction(logger: PostgresStore.quiet) { connection in
            try await fill { table, rows in
                guard !rows.isEmpty else { return }
                var bindings = PostgresBindings()
                var tuples: [String] = []
                for row in rows {
                    var placeholders: [String] = []
                    for value in row {
                        bindings.append(value)
                        placeholders.append("$\(bindings.count)")
                    }
                    tuples.append("(\(placeholders.joined(separator: ", ")))")
                }
                let names = table.columns.map(\.name).joined(separator: ", ")
                try await connection.run(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(table.name) (\(names)) VALUES \(tuples.joined(separator: ", "))", binds: bindings))
            }
            // The head of each ordering key: its oldest unsettled event.
            try await connection.run(
                """
                SELECT relevo_refresh_heads(ARRAY(SELECT DISTINCT ordering_key FROM events WHERE status IN ('pending', 'delivering', 'held')))
                """)
        }
        store.announceDue()
    }

    package func finish() async throws {}

    package func close() async throws { try await store.close() }
}

extension PostgresBindings {
    fileprivate mutating func append(_ value: CopyValue) {
        switch value {
        case .text(let text): append(text)
        case .integer(let integer): append(integer)
        case .blob(let bytes): append(ByteBuffer(bytes: bytes))
        case .null: appendNull()
        }
    }
}
