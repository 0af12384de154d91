import ArgumentParser
import Foundation
import Logging
import Relevo

/// `relevo`: the command line of §10. Every option falls back to an environment variable.
struct RelevoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relevo", abstract: "External support panel gateway.",
        subcommands: [Serve.self, Projects.self])
}

/// Options shared by every command that opens the database.
struct StoreOptions: ParsableArguments {
    @Option(help: "sqlite://PATH (default sqlite://./relevo-data/relevo.sqlite) [RELEVO_DATABASE_URL]")
    var database: String?

    func configuration() -> RelevoConfiguration {
        let env = ProcessInfo.processInfo.environment
        var configuration = RelevoConfiguration()
        if let url = database ?? env["RELEVO_DATABASE_URL"] { configuration.databaseURL = url }
        configuration.masterKey = env["RELEVO_MASTER_KEY"]
        if let level = env["RELEVO_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { configuration.logLevel = level }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the delivery workers.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Address to bind [RELEVO_HOST]") var host: String?
    @Option(help: "Port to listen on [RELEVO_PORT]") var port: Int?
    @Flag(help: "Accept http and local webhook addresses, for development [RELEVO_ALLOW_INSECURE_WEBHOOKS=1]")
    var allowInsecureWebhooks = false
    @Option(help: "Requests per second per API key, 0 = unlimited [RELEVO_RATE_LIMIT]") var rateLimit: Double?
    @Option(help: "Burst size per API key [RELEVO_RATE_BURST]") var rateBurst: Double?
    @Option(help: "Delays between delivery attempts, e.g. 5s,5m,30m,2h,5h,10h,10h (the default) [RELEVO_RETRY_SCHEDULE]")
    var retrySchedule: String?
    @Option(help: "Seconds a panel or channel has to answer one delivery, default 15 [RELEVO_DELIVERY_TIMEOUT]")
    var deliveryTimeout: Int?
    @Option(help: "Seconds a claimed delivery stays reserved to its instance, default 60; longer than the timeout [RELEVO_DELIVERY_LEASE]")
    var deliveryLease: Int?
    @Option(help: "Days delivered events are kept, default 30 [RELEVO_RETENTION_DAYS]") var retentionDays: Int?
    @Option(help: "Delivery attempts in flight at once, default 128 [RELEVO_MAX_IN_FLIGHT]") var maxInFlight: Int?
    @Option(help: "Delivery attempts in flight to one panel or channel, default 32 [RELEVO_MAX_IN_FLIGHT_PER_DESTINATION]")
    var maxInFlightPerDestination: Int?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var configuration = store.configuration()
        configuration.host = host ?? env["RELEVO_HOST"] ?? configuration.host
        configuration.port = port ?? env["RELEVO_PORT"].flatMap(Int.init) ?? configuration.port
        configuration.allowInsecureWebhooks = allowInsecureWebhooks || ["1", "true"].contains(env["RELEVO_ALLOW_INSECURE_WEBHOOKS"] ?? "")
        configuration.rateLimitPerSecond = rateLimit ?? env["RELEVO_RATE_LIMIT"].flatMap(Double.init) ?? configuration.rateLimitPerSecond
        configuration.rateLimitBurst = rateBurst ?? env["RELEVO_RATE_BURST"].flatMap(Double.init) ?? configuration.rateLimitBurst
        if let text = retrySchedule ?? env["RELEVO_RETRY_SCHEDULE"] {
            guard let schedule = RetryPolicy.parseSchedule(text) else {
                throw ValidationError("--retry-schedule: give durations like 5s,5m,2h separated by commas")
            }
            configuration.retryPolicy.schedule = schedule
        }
        if let seconds = deliveryTimeout ?? env["RELEVO_DELIVERY_TIMEOUT"].flatMap(Int.init) {
            configuration.deliveryTimeout = .seconds(max(1, seconds))
        }
        if let seconds = deliveryLease ?? env["RELEVO_DELIVERY_LEASE"].flatMap(Int.init) {
            configuration.deliveryLease = .seconds(seconds)
        }
        guard configuration.deliveryLease > configuration.deliveryTimeout else {
            throw ValidationError("--delivery-lease must be longer than --delivery-timeout, or a live attempt could be taken over")
        }
        if let days = retentionDays ?? env["RELEVO_RETENTION_DAYS"].flatMap(Int.init) {
            configuration.retention = .seconds(max(1, days) * 86_400)
        }
        configuration.maximumInFlight = maxInFlight ?? env["RELEVO_MAX_IN_FLIGHT"].flatMap(Int.init) ?? configuration.maximumInFlight
        configuration.maximumInFlightPerDestination = maxInFlightPerDestination
            ?? env["RELEVO_MAX_IN_FLIGHT_PER_DESTINATION"].flatMap(Int.init) ?? configuration.maximumInFlightPerDestination
        guard configuration.maximumInFlightPerDestination >= 1,
              configuration.maximumInFlight >= configuration.maximumInFlightPerDestination else {
            throw ValidationError("--max-in-flight-per-destination must be at least 1 and at most --max-in-flight")
        }
        try await RelevoServer.run(configuration: configuration)
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
        let app = try await RelevoApp(configuration: store.configuration())
        let issued = try await CommandOutput.run { try await app.projects.createProject(name: name, id: id) }
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
        let app = try await RelevoApp(configuration: store.configuration())
        let issued = try await CommandOutput.run { try await app.projects.createKey(projectId: project) }
        CommandOutput.line(.members([
            "projectId": .string(issued.projectId), "keyId": .string(issued.keyId), "apiKey": .string(issued.apiKey),
        ]))
    }
}

struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List key ids (never the keys).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Project id") var project: String

    func run() async throws {
        let app = try await RelevoApp(configuration: store.configuration())
        for key in try await app.store.keys(projectId: project) {
            CommandOutput.line(.members([
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
        let app = try await RelevoApp(configuration: store.configuration())
        let apiKey = keyFromStdin ? readLine()?.trimmingCharacters(in: .whitespaces) : nil
        let revoked = try await app.projects.revokeKey(projectId: project, keyId: keyId, apiKey: apiKey)
        guard revoked else {
            FileHandle.standardError.write(Data("no such active key in project \(project)\n".utf8))
            throw ExitCode.failure
        }
        CommandOutput.line(.members(["projectId": .string(project), "revoked": true]))
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
        } catch {
            exit(withError: error)
        }
    }
}
