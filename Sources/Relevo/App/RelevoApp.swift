import Foundation
import Hummingbird
import Logging
import NIOCore

/// Wiring: store, secrets, services, routes. Used by `relevo serve`, the CLI commands and the tests.
public struct RelevoApp: Sendable {
    public let configuration: RelevoConfiguration
    public let store: any RelevoStore
    public let projects: ProjectService
    public let integrations: IntegrationService
    public let logger: Logger

    /// Opens the store (applying migrations) and loads the master key.
    public init(configuration: RelevoConfiguration, logger: Logger? = nil) throws {
        var logger = logger ?? Logger(label: "relevo")
        logger.logLevel = configuration.logLevel
        self.logger = logger
        self.configuration = configuration
        let location = try DatabaseLocation.parse(configuration.databaseURL)
        let masterKey: [UInt8]
        switch location {
        case .sqlite(let path):
            store = try SQLiteStore(path: path)
            masterKey = try MasterKey.load(environmentValue: configuration.masterKey, fileURL: location.keyFileURL!)
        case .postgres:
            throw DatabaseLocation.Invalid(description: "PostgreSQL is not supported by this build yet; use sqlite://")
        }
        let secrets = try SecretBox(masterKey: masterKey)
        projects = ProjectService(store: store)
        integrations = IntegrationService(
            store: store, secrets: secrets,
            destinationGuard: DestinationGuard(allowInsecure: configuration.allowInsecureWebhooks))
    }

    /// On an empty database, creates project `default` so a newcomer can call the API at once (§10).
    /// Returns its key (to be shown once) or nil when projects already exist.
    public func seedDefaultProjectIfEmpty() async throws -> ProjectService.IssuedKey? {
        guard try await store.projectCount() == 0 else { return nil }
        return try await projects.createProject(name: "default")
    }

    /// The HTTP router with every route of the contract.
    public func buildRouter() -> Router<RelevoRequestContext> {
        let router = Router(context: RelevoRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        var routes = RouteTable(
            router: router,
            apiKeys: APIKeyMiddleware(
                projects: projects,
                rateLimiter: RateLimiter(ratePerSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst)))
        SystemController(store: store, openAPIDocument: ByteBuffer(string: OpenAPIDocument.text)).register(in: &routes)
        IntegrationController(integrations: integrations).register(in: &routes)
        routes.finish()
        return router
    }

    /// The server application, ready for `runService()` or Hummingbird's test client.
    public func buildApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Relevo"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
