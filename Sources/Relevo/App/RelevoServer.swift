import Foundation
import Hummingbird
import Logging
import NIOPosix

/// `relevo serve`: open the store, seed the default project on first start, run until SIGTERM/SIGINT.
package enum RelevoServer {
    package static func run(configuration: RelevoConfiguration) async throws {
        // Before the store is opened (and migrated) by a second server. Held until this function returns.
        let serverLock = try DatabaseLocation.parse(configuration.databaseURL).sqlitePath.map(SQLiteServerLock.init(path:))
        defer { withExtendedLifetime(serverLock) {} }
        let app = try await RelevoApp(configuration: configuration)
        if configuration.allowInsecureWebhooks {
            app.logger.warning("--allow-insecure-webhooks is on: http and local webhook addresses are accepted")
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let application = try app.buildApplication(
            beforeServerStarts: {
                try await app.verifyMasterKey()
                // Before the seed: a start that cannot listen must not spend the one showing of the first key.
                try await checkCanListen(host: configuration.host, port: configuration.port)
                if let seeded = try await app.seedDefaultProjectIfEmpty() {
                    Console.write(
                        """
                        Created project "default" on this new database. Its API key is shown only this once:
                          projectId: \(seeded.projectId)
                          x-api-key: \(seeded.apiKey)

                        """)
                }
            },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                Console.write("Relevo \(Release.version) listening on http://\(host):\(port)\n")
            })
        do {
            try await application.runService()
        } catch {
            try? await app.store.close()
            throw error
        }
        try await app.store.close()
    }

    /// Binds `host`:`port` once and lets it go, to refuse a bad address or a port in use with a
    /// message that names them (the server binds again right after).
    private static func checkCanListen(host: String, port: Int) async throws {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            throw CannotListen(description: "cannot listen on \(host):\(port): \(error)")
        }
    }

    struct CannotListen: Error, CustomStringConvertible {
        let description: String
    }
}

/// Standard output for the few lines meant for the operator's eyes (not logs).
package enum Console {
    package static func write(_ text: String) {
        // The throwing form: `write(_: Data)` traps when stdout is a pipe whose reader has gone
        // (`relevo serve | head -1`), and the server must outlive its log pipe.
        try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }
}
