import Foundation
import PostgresNIO

/// Reads a `postgres://user:password@host:port/database?sslmode=…` URL into postgres-nio's configuration.
///
/// `sslmode` follows libpq's names: `disable`, `prefer` (the default, as libpq's), `require`
/// (encrypted, certificate verified against the system's roots). User and password may be percent-encoded.
enum PostgresURL {
    static func configuration(_ text: String) throws(DatabaseLocation.Invalid) -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
            let host = url.host, !host.isEmpty
        else { throw DatabaseLocation.Invalid(description: "the PostgreSQL URL must look like postgres://user@host:5432/database") }
        guard let user = url.user, !user.isEmpty else {
            throw DatabaseLocation.Invalid(description: "the PostgreSQL URL names no user (postgres://user@host/database)")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        let mode = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw DatabaseLocation.Invalid(description: "sslmode must be disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user,
            password: url.password, database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.maximumConnections = 32
        // A safety net for every connection Relevo opens: a transaction whose client stopped talking
        // (a process frozen, a connection half lost while the database restarted) is ended by the
        // server, and the ordering-key locks it holds are given back, instead of stalling every
        // other writer and claimer of those conversations until the connection dies.
        configuration.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "15s")]
        return configuration
    }
}
