import ArgumentParser
import Foundation
import Relevo

/// `relevo`: the command line of §10. Every option falls back to an environment variable.
struct RelevoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relevo", abstract: "External support panel gateway.",
        subcommands: [Serve.self, Projects.self, Backup.self, Copy.self])
}

/// Options shared by every command that opens the database.
struct StoreOptions: ParsableArguments {
    @Option(help: "sqlite://PATH (default sqlite://./relevo-data/relevo.sqlite) [RELEVO_DATABASE_URL]")
    var database: String?

    func configuration() throws(ConfigurationError) -> RelevoConfiguration {
        var configuration = RelevoConfiguration()
        if let (url, _) = Setting.text(database, "--database", "RELEVO_DATABASE_URL") { configuration.databaseURL = url }
        configuration.masterKey = ProcessInfo.processInfo.environment["RELEVO_MASTER_KEY"]
        if let level = try Setting.read(nil, "", "RELEVO_LOG_LEVEL", ConfigurationValue.logLevel) { configuration.logLevel = level }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the delivery workers.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Address to bind [RELEVO_HOST]") var host: String?
    // Settings are read as text, by the same parser as their environment variables, so that both
    // refuse the same values the same way; `.unconditional` lets `--rate-limit -5` reach that parser
    // (and be refused there) instead of `-5` being taken for an option.
    @Option(parsing: .unconditional, help: "Port to listen on, 0 = any free one [RELEVO_PORT]") var port: String?
    @Flag(help: "Accept http and local webhook addresses, for development [RELEVO_ALLOW_INSECURE_WEBHOOKS=1]")
    var allowInsecureWebhooks = false
    @Option(parsing: .unconditional, help: "Requests per second per API key, 0 = unlimited [RELEVO_RATE_LIMIT]")
    var rateLimit: String?
    @Option(parsing: .unconditional, help: "Burst size per API key [RELEVO_RATE_BURST]") var rateBurst: String?
    @Option(
        parsing: .unconditional,
        help: "Web chat requests per second per client address (burst 3x), 0 = unlimited, default 20 [RELEVO_WEBCHAT_RATE_LIMIT]")
    var webchatRateLimit: String?
    @Option(
        parsing: .unconditional,
        help: "Delays between delivery attempts, e.g. 5s,5m,30m,2h,5h,10h,10h (the default) [RELEVO_RETRY_SCHEDULE]")
    var retrySchedule: String?
    @Option(parsing: .unconditional, help: "Seconds a panel or channel has to answer one delivery, default 15 [RELEVO_DELIVERY_TIMEOUT]")
    var deliveryTimeout: String?
    @Option(
        parsing: .unconditional,
        help: "Seconds a claimed delivery stays reserved to its instance, default 60; longer than the timeout [RELEVO_DELIVERY_LEASE]")
    var deliveryLease: String?
    @Option(parsing: .unconditional, help: "Days delivered events are kept, default 30 [RELEVO_RETENTION_DAYS]")
    var retentionDays: String?
    @Option(parsing: .unconditional, help: "Delivery attempts in flight at once, default 128 [RELEVO_MAX_IN_FLIGHT]")
    var maxInFlight: String?
    @Option(
        parsing: .unconditional,
        help: "Delivery attempts in flight to one panel or channel, default 32 [RELEVO_MAX_IN_FLIGHT_PER_DESTINATION]")
    var maxInFlightPerDestination: String?

    func run() async throws {
        try await RelevoServer.run(configuration: try configuration())
    }

    /// Every setting checked before anything is opened: the first invalid one stops the start.
    func configuration() throws(ConfigurationError) -> RelevoConfiguration {
        typealias Limit = RelevoConfiguration
        var configuration = try store.configuration()
        if let (host, _) = Setting.text(host, "--host", "RELEVO_HOST") { configuration.host = host }
        if let port = try Setting.integer(port, "--port", "RELEVO_PORT", in: Limit.portRange) {
            configuration.port = port
        }
        let insecure = try Setting.read(nil, "", "RELEVO_ALLOW_INSECURE_WEBHOOKS", ConfigurationValue.boolean) ?? false
        configuration.allowInsecureWebhooks = allowInsecureWebhooks || insecure
        if let rate = try Setting.number(rateLimit, "--rate-limit", "RELEVO_RATE_LIMIT", in: Limit.rateLimitRange) {
            configuration.rateLimitPerSecond = rate
        }
        if let burst = try Setting.number(rateBurst, "--rate-burst", "RELEVO_RATE_BURST", in: Limit.rateBurstRange) {
            configuration.rateLimitBurst = burst
        }
        if let rate = try Setting.number(webchatRateLimit, "--webchat-rate-limit", "RELEVO_WEBCHAT_RATE_LIMIT", in: Limit.rateLimitRange) {
            configuration.webChatRatePerAddress = rate
        }
        if let schedule = try Setting.read(retrySchedule, "--retry-schedule", "RELEVO_RETRY_SCHEDULE", ConfigurationValue.retrySchedule) {
            configuration.retryPolicy.schedule = schedule
        }
        if let seconds = try Setting.integer(
            deliveryTimeout, "--delivery-timeout", "RELEVO_DELIVERY_TIMEOUT",
            in: Limit.deliveryTimeoutRange)
        {
            configuration.deliveryTimeout = .seconds(seconds)
        }
        if let seconds = try Setting.integer(deliveryLease, "--delivery-lease", "RELEVO_DELIVERY_LEASE", in: Limit.deliveryLeaseRange) {
            configuration.deliveryLease = .seconds(seconds)
        }
        guard configuration.deliveryLease > configuration.deliveryTimeout else {
            throw ConfigurationError("--delivery-lease must be longer than --delivery-timeout, or a live attempt could be taken over")
        }
        if let days = try Setting.integer(retentionDays, "--retention-days", "RELEVO_RETENTION_DAYS", in: Limit.retentionDaysRange) {
            configuration.retention = .seconds(days * 86_400)
        }
        if let count = try Setting.integer(maxInFlight, "--max-in-flight", "RELEVO_MAX_IN_FLIGHT", in: Limit.maximumInFlightRange) {
            configuration.maximumInFlight = count
        }
        if let count = try Setting.integer(
            maxInFlightPerDestination, "--max-in-flight-per-destination",
            "RELEVO_MAX_IN_FLIGHT_PER_DESTINATION", in: Limit.maximumInFlightRange)
        {
            configuration.maximumInFlightPerDestination = count
        } else {
            // Not set: the default (32) gives way to a smaller total rather than refusing it.
            configuration.maximumInFlightPerDestination = min(configuration.maximumInFlightPerDestination, configuration.maximumInFlight)
        }
        guard configuration.maximumInFlight >= configuration.maximumInFlightPerDestination else {
            throw ConfigurationError(
                "--max-in-flight-per-destination (RELEVO_MAX_IN_FLIGHT_PER_DESTINATION) must be at most "
                    + "--max-in-flight (RELEVO_MAX_IN_FLIGHT)")
        }
        return configuration
    }
}

struct Projects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage projects and their API keys.", subcommands: [CreateProject.self, Keys.self])
}

struct CreateProject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a project; prints its id and first API key.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Project name") var name: String
    @Option(help: "Project id (default: random)") var id: String?

    func run() async throws {
        let issued = try await RelevoApp.withApp(configuration: try store.configuration()) { app in
            try await CommandOutput.run { try await app.projects.createProject(name: name, id: id) }
        }
        CommandOutput.line(.members(["projectId": .string(issued.projectId), "apiKey": .string(issued.apiKey)]))
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue, list and revoke API keys.", subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self])
}

struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Issue another key; prints it once.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Project id") var project: String

    func run() async throws {
        let issued = try await RelevoApp.withApp(configuration: try store.configuration()) { app in
            try await CommandOutput.run { try await app.projects.createKey(projectId: project) }
        }
        CommandOutput.line(
            .members([
                "projectId": .string(issued.projectId), "keyId": .string(issued.keyId), "apiKey": .string(issued.apiKey),
            ]))
    }
}

struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List key ids (never the keys).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Project id") var project: String

    func run() async throws {
        let keys = try await RelevoApp.withApp(configuration: try store.configuration()) { app in
            try await app.store.keys(projectId: project)
        }
        for key in keys {
            CommandOutput.line(
                .members([
                    "keyId": .string(key.id), "createdAt": .string(key.createdAt.iso8601),
                    "revokedAt": key.revokedAt.map { .string($0.iso8601) } ?? .null,
                ]))
        }
    }
}

struct RevokeKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key, effective immediately.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Project id") var project: String
    @Option(help: "Key id, as printed by 'keys create' or 'keys list'") var keyId: String?
    @Flag(help: "Read the API key itself from standard input instead of naming its id") var keyFromStdin = false

    func validate() throws {
        guard (keyId != nil) != keyFromStdin else { throw ValidationError("give exactly one of --key-id or --key-from-stdin") }
    }

    func run() async throws {
        let apiKey = keyFromStdin ? readLine()?.trimmingCharacters(in: .whitespaces) : nil
        let revoked = try await RelevoApp.withApp(configuration: try store.configuration()) { app in
            try await app.projects.revokeKey(projectId: project, keyId: keyId, apiKey: apiKey)
        }
        guard revoked else {
            FileHandle.standardError.write(Data("no such active key in project \(project)\n".utf8))
            throw ExitCode.failure
        }
        CommandOutput.line(.members(["projectId": .string(project), "revoked": true]))
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite store to a new file, consistently, while the server runs.",
        discussion: "The master key file beside the database is copied beside the backup: keep the two together.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The new file to write") var to: String

    func run() async throws {
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation.parse(try store.configuration().databaseURL)
        } catch {
            throw ConfigurationError("--database: \(error)")
        }
        guard case .sqlite(let path) = location else {
            throw ConfigurationError("relevo backup copies a SQLite file; back up PostgreSQL with pg_dump (see docs/operating.md)")
        }
        let result: SQLiteBackup.Result
        do {
            result = try SQLiteBackup.copy(from: path, to: to)
        } catch {
            throw CommandOutput.failure("\(error)")
        }
        CommandOutput.line(
            .members([
                "backup": .string(to), "bytes": .number(Double(result.bytes)),
                "keyFile": result.keyFile.map(JSONValue.string) ?? .null,
            ]))
        let reminder =
            result.keyFile.map { "keep \($0) with the backup: its secrets open only with that master key" }
            ?? "the secrets in the backup open only with the master key in RELEVO_MASTER_KEY: keep it with the backup"
        FileHandle.standardError.write(Data((reminder + "\n").utf8))
    }
}

struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a whole store to an empty database: SQLite to PostgreSQL, or back.",
        discussion: """
            Projects and key hashes, integrations and bots with their sealed secrets, users, rooms, \
            conversations and their history, events with their attempts and order, and idempotency \
            records. No server may run on a SQLite side; the master key (RELEVO_MASTER_KEY, or the \
            relevo.key beside a SQLite source) must open the source's secrets; nothing is written \
            until every check passed, and an interrupted copy leaves no data in the target.
            """)
    @Option(help: "The database to copy: sqlite://PATH or postgres://…") var from: String
    @Option(help: "The empty database to copy into: sqlite://PATH (a new file) or postgres://…") var to: String

    func run() async throws {
        let result: (counts: [StoreCopy.Count], keyFile: String?)
        do {
            result = try await StoreCopy.run(
                from: from, to: to, masterKey: ProcessInfo.processInfo.environment["RELEVO_MASTER_KEY"],
                progress: { FileHandle.standardError.write(Data(("copying " + $0 + "\n").utf8)) })
        } catch {
            throw CommandOutput.failure("\(error)")
        }
        CommandOutput.line(
            .members([
                "copied": .object(result.counts.map { (key: $0.table, value: .number(Double($0.target))) }),
                "keyFile": result.keyFile.map(JSONValue.string) ?? .null,
            ]))
        let reminder =
            result.keyFile.map { "the copy opens with the master key in \($0), as the source did" }
            ?? "start Relevo on the copy with the same master key as the source (RELEVO_MASTER_KEY)"
        FileHandle.standardError.write(Data((reminder + "\n").utf8))
    }
}

extension RelevoCommand {
    /// Parses and runs the command. Written out because, from top-level code on Linux, the
    /// synchronous `main()` overload is picked, which refuses to run async commands.
    static func start() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            // One line, without the usage text ArgumentParser would add to a ValidationError:
            // the option is named and nothing about how to call relevo was wrong.
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            exit(withError: error)
        }
    }
}
