import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Wiring: store, secrets, services, routes. Used by `relevo serve`, the CLI commands and the tests.
package struct RelevoApp: Sendable {
    package let configuration: RelevoConfiguration
    package let store: any RelevoStore
    package let projects: ProjectService
    package let integrations: IntegrationService
    package let bots: BotService
    package let conversations: ConversationService
    package let eventLog: EventLogService
    package let webChats: WebChatService
    /// The web chat's public side: the router's routes and the connections' stream handler share it.
    let widget: WidgetController
    /// Wakes the web chat streams of a room when its history changes (the store's: it may relay).
    package var transcripts: TranscriptSignal { store.transcripts }
    package let metrics = DeliveryMetrics()
    package let secrets: SecretBox
    package let destinationGuard: DestinationGuard
    package let logger: Logger
    /// The key file this start created (there was none beside the SQLite database).
    let createdKeyFile: URL?

    /// Opens the store and loads the master key. A SQLite store is ready at once (migrated); a
    /// PostgreSQL one connects and migrates when its services run (``RelevoStore/ready()``).
    package init(configuration: RelevoConfiguration, logger: Logger? = nil) async throws {
        var logger = logger ?? Logger(label: "relevo")
        logger.logLevel = configuration.logLevel
        self.logger = logger
        self.configuration = configuration
        let location = try DatabaseLocation.parse(configuration.databaseURL)
        let masterKey: [UInt8]
        switch location {
        case .sqlite(let path):
            store = try SQLiteStore(path: path)  // creates the directory the key file goes in
            let keyFile = location.keyFileURL
            let existed = keyFile.map { FileManager.default.fileExists(atPath: $0.path) } ?? true
            masterKey = try MasterKey.load(environmentValue: configuration.masterKey, fileURL: keyFile)
            createdKeyFile = existed || !(configuration.masterKey ?? "").isEmpty ? nil : keyFile
        case .postgres(let url):
            masterKey = try MasterKey.load(environmentValue: configuration.masterKey, fileURL: nil)
            store = try PostgresStore(url: url, logger: logger)
            createdKeyFile = nil
        }
        secrets = try SecretBox(masterKey: masterKey)
        destinationGuard = DestinationGuard(allowInsecure: configuration.allowInsecureWebhooks)
        projects = ProjectService(store: store)
        integrations = IntegrationService(store: store, secrets: secrets, destinationGuard: destinationGuard)
        bots = BotService(store: store, secrets: secrets, destinationGuard: destinationGuard)
        conversations = ConversationService(
            store: store, bots: bots, integrations: integrations, secrets: secrets, metrics: metrics, transcripts: store.transcripts)
        eventLog = EventLogService(store: store, secrets: secrets)
        webChats = WebChatService(store: store, bots: bots, conversations: conversations, secrets: secrets)
        widget = WidgetController(
            webChats: webChats, transcripts: store.transcripts,
            addressLimiter: RateLimiter(ratePerSecond: configuration.webChatRatePerAddress, burst: configuration.webChatRatePerAddress * 3))
    }

    /// Runs `body` with the store started and ready, and closes the store afterwards, also when
    /// `body` throws: the one-shot CLI commands.
    package static func withApp<T: Sendable>(
        configuration: RelevoConfiguration, _ body: (RelevoApp) async throws -> T
    ) async throws -> T {
        let app = try await RelevoApp(configuration: configuration)
        do {
            try await app.store.start()
            let result = try await body(app)
            try await app.store.close()
            return result
        } catch {
            try? await app.store.close()
            throw error
        }
    }

    /// Refuses a master key that cannot open the secrets already stored — a wrong `RELEVO_MASTER_KEY`,
    /// or a SQLite file copied without its `relevo.key` — instead of serving with every delivery
    /// failing as `secret_unreadable`. The latest integration's signing secret and the latest bot's
    /// channel secret are tried (a database may hold bots and no integration yet). A key file this
    /// start created for such a database is removed again, so that the next start does not find a
    /// wrong one.
    package func verifyMasterKey() async throws {
        var opens = true
        if let record = try await store.latestIntegration() {
            opens = secrets.open(record.signingSecret, context: IntegrationService.signingContext(record.id)) != nil
        }
        if opens, let bot = try await store.latestBot() {
            opens = secrets.open(bot.channelSecret, context: BotService.secretContext(projectId: bot.projectId, botId: bot.id)) != nil
        }
        guard !opens else { return }
        if let createdKeyFile { try? FileManager.default.removeItem(at: createdKeyFile) }
        throw MasterKeyError.doesNotOpenStoredSecrets(createdFile: createdKeyFile?.path)
    }

    /// On an empty database, creates project `default` so a newcomer can call the API at once (§10).
    /// Returns its key (to be shown once) or nil when projects already exist.
    package func seedDefaultProjectIfEmpty() async throws -> ProjectService.IssuedKey? {
        guard try await store.projectCount() == 0 else { return nil }
        return try await projects.seedDefaultProject()
    }

    /// The HTTP router with every route of the contract.
    package func buildRouter() -> Router<RelevoRequestContext> {
        buildRoutes().router
    }

    /// The router and its route table (paths and methods served).
    func buildRoutes() -> (router: Router<RelevoRequestContext>, table: RouteTable) {
        let router = Router(context: RelevoRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ErrorMiddleware())
        var routes = RouteTable(
            router: router,
            apiKeys: APIKeyMiddleware(
                projects: projects,
                rateLimiter: RateLimiter(ratePerSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst)))
        SystemController(store: store, metrics: metrics, widget: widget, openAPIDocument: ByteBuffer(string: OpenAPIDocument.text))
            .register(in: &routes)
        IntegrationController(integrations: integrations).register(in: &routes)
        ConversationController(conversations: conversations).register(in: &routes)
        BotController(bots: bots).register(in: &routes)
        PanelWebhookController(conversations: conversations).register(in: &routes)
        EventLogController(events: eventLog).register(in: &routes)
        ProjectController(projects: projects).register(in: &routes)
        WebChatController(webChats: webChats).register(in: &routes)
        widget.register(in: &routes)
        ConsoleController().register(in: &routes)
        routes.finish()
        return (router, routes)
    }

    /// The delivery worker and the HTTP client it sends with (shut down after it).
    package func deliveryServices(_ dispatcherConfiguration: Dispatcher.Configuration = .init()) throws -> [any Service] {
        let client = try WebhookClient(destinationGuard: destinationGuard)
        let runner = DeliveryAttemptRunner(
            store: store, integrations: integrations, secrets: secrets, destinationGuard: destinationGuard,
            sender: WebhookSender(client: client, timeout: configuration.deliveryTimeout))
        var dispatcherConfiguration = dispatcherConfiguration
        dispatcherConfiguration.retryPolicy = configuration.retryPolicy
        dispatcherConfiguration.lease = configuration.deliveryLease
        dispatcherConfiguration.maximumInFlight = configuration.maximumInFlight
        dispatcherConfiguration.maximumInFlightPerDestination = configuration.maximumInFlightPerDestination
        return [
            client,
            Dispatcher(store: store, attempt: runner, configuration: dispatcherConfiguration, logger: logger, metrics: metrics),
            RetentionService(store: store, retention: configuration.retention, logger: logger),
        ]
    }

    /// The server application with the store's services and the delivery services, ready for
    /// `runService()` or Hummingbird's test client. `beforeServerStarts` runs once the store is ready,
    /// before the server listens; delivery starts once the store is ready.
    package func buildApplication(
        withDelivery: Bool = true,
        beforeServerStarts: @escaping @Sendable () async throws -> Void = {},
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let store = store
        let delivery = withDelivery ? try deliveryServices().map { AfterStoreReady(store: store, service: $0) as any Service } : []
        var application = Application(
            router: buildRouter(),
            server: RelevoHTTPChannel.builder(.init(idleTimeout: TimeAmount(configuration.idleTimeout)), widget: widget),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Relevo"),
            services: store.services + delivery,
            onServerRunning: onServerRunning,
            logger: logger)
        application.beforeServerStarts {
            try await store.ready()
            try await beforeServerStarts()
        }
        return application
    }
}
