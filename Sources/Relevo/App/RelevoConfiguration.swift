import Logging

/// Everything an operator can set (§10); each field has a command-line option and an environment variable.
package struct RelevoConfiguration: Sendable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// `sqlite://./relative.sqlite`, `sqlite:///absolute.sqlite` or `postgres://user@host:5432/database`.
    package var databaseURL = "sqlite://./relevo-data/relevo.sqlite"
    /// Accept `http` webhooks and local addresses: for panels on the same machine, never production.
    package var allowInsecureWebhooks = false
    /// `RELEVO_MASTER_KEY`: 32 bytes as hex or Base64; when nil a key file beside the database is used.
    package var masterKey: String?
    /// Requests per second per API key; 0 disables the limit.
    package var rateLimitPerSecond: Double = 50
    package var rateLimitBurst: Double = 100
    /// Web chat calls per second per client address (visitor tokens, messages, streams), burst three
    /// times that; 0 disables it. Each visitor also has a budget of its own for messages.
    package var webChatRatePerAddress: Double = 20
    package var logLevel: Logger.Level = .info
    /// How long a panel or channel has to answer one delivery (§5.1).
    package var deliveryTimeout: Duration = .seconds(15)
    /// How long a claimed delivery is reserved for the instance that claimed it. On PostgreSQL, when
    /// an instance dies mid-delivery, another one takes its events over once this has passed.
    /// Longer than `deliveryTimeout`, so that a live attempt is never taken over.
    package var deliveryLease: Duration = .seconds(60)
    /// Delivered events older than this are pruned with their attempts.
    package var retention: Duration = .seconds(30 * 86_400)
    /// When failed deliveries are tried again (§5.2).
    package var retryPolicy = RetryPolicy.standard
    /// Attempts in flight at once, in all and to one destination (a project's panel, a bot's channel).
    package var maximumInFlight = Dispatcher.Configuration().maximumInFlight
    package var maximumInFlightPerDestination = Dispatcher.Configuration().maximumInFlightPerDestination
    /// An inbound connection that sends nothing for this long — between requests, or in the middle of
    /// one (a body shorter than its `Content-Length`) — is closed, so it does not hold a socket forever.
    package var idleTimeout: Duration = .seconds(30)

    package init() {}
}

/// What an operator may set, and why the ends are where they are. Values outside are refused at
/// start (``ConfigurationValue``), never wrapped or clamped, so the server runs with what was asked.
extension RelevoConfiguration {
    /// `0` asks the system for a free port.
    package static let portRange = 0...65_535
    /// Requests per second per key; `0` is no limit. A million is far beyond what one instance serves.
    package static let rateLimitRange = 0.0...1_000_000
    package static let rateBurstRange = 1.0...1_000_000
    /// Seconds: a day is longer than any answer worth waiting for, and keeps due times far from overflow.
    package static let deliveryTimeoutRange = 1...86_400
    package static let deliveryLeaseRange = 1...86_400
    /// A hundred years: "keep everything" without arithmetic that could overflow.
    package static let retentionDaysRange = 1...36_500
    /// Each attempt in flight holds a connection (a file descriptor): ten thousand is already a lot of them.
    package static let maximumInFlightRange = 1...10_000
}
