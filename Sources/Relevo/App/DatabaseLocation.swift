import Foundation

/// Where the data lives, parsed from `--database` / `RELEVO_DATABASE_URL` (§10).
package enum DatabaseLocation: Equatable, Sendable {
    /// A SQLite file path (relative paths are relative to the working directory).
    case sqlite(path: String)
    case postgres(url: String)

    /// Why a database URL was refused.
    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    /// `sqlite://./rel.sqlite` → `./rel.sqlite`; `sqlite:///abs.sqlite` → `/abs.sqlite`; a bare path is a SQLite file.
    package static func parse(_ text: String) throws(Invalid) -> DatabaseLocation {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw Invalid(description: "the sqlite:// URL names no file") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(url: text) }
        if text.contains("://") {
            throw Invalid(description: "unsupported database URL scheme; use sqlite:// or postgres://")
        }
        guard !text.isEmpty else { throw Invalid(description: "the database location is empty") }
        return .sqlite(path: text)
    }

    /// The file of a SQLite database (nil for PostgreSQL).
    var sqlitePath: String? {
        guard case .sqlite(let path) = self else { return nil }
        return path
    }

    /// The master key file that sits beside a SQLite database.
    var keyFileURL: URL? {
        guard case .sqlite(let path) = self else { return nil }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("relevo.key")
    }
}
