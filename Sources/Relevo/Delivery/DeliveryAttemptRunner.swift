import Synchronization

/// Everything one attempt needs besides the HTTP call: where the event goes now, the secrets
/// that sign it, the credential, the address rule — read fresh on every attempt, so an updated
/// URL or a regenerated secret applies to events already queued (E3, E5).
public struct DeliveryAttemptRunner: Sendable {
    /// What an attempt did, before it is turned into an outcome.
    public struct Result: Sendable {
        public enum Disposition: Sendable { case sent, notSent, held, cancelled }
        public var disposition: Disposition
        public var statusCode: Int? = nil
        public var errorClass: String? = nil
        public var responseBody: String? = nil
        public var retryAfter: Duration? = nil

        public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    }

    let store: any RelevoStore
    let integrations: IntegrationService
    let secrets: SecretBox
    let destinationGuard: DestinationGuard
    let sender: WebhookSender
    /// Addresses parsed once, not per attempt (the address rule is still checked per attempt).
    private let parsedURLs = ParsedURLs()

    public init(store: any RelevoStore, integrations: IntegrationService, secrets: SecretBox,
                destinationGuard: DestinationGuard, sender: WebhookSender) {
        self.store = store
        self.integrations = integrations
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.sender = sender
    }

    func run(_ event: OutboxEvent, attemptNumber: Int, at time: Timestamp) async -> Result {
        let target: (url: String, secrets: [String], credential: (String, String)?)
        do {
            switch event.destination {
            case .panel:
                guard let integration = try await store.integration(projectId: event.projectId) else {
                    return Result(disposition: .cancelled, errorClass: "integration_deleted")
                }
                let signing = integrations.signingSecrets(of: integration)
                guard !signing.isEmpty else { return Result(disposition: .notSent, errorClass: "secret_unreadable") }
                let credential = integration.authorization
                    .flatMap { secrets.open($0, context: IntegrationService.credentialContext(integration.id)) }
                    .flatMap { PanelCredential.header(for: integration.authType, authorization: $0) }
                target = (integration.webhookUrl, signing, credential)
            case .channel(let botId):
                guard let bot = try await store.bot(projectId: event.projectId, id: botId) else {
                    return Result(disposition: .cancelled, errorClass: "bot_deleted")
                }
                guard let url = bot.channelWebhookUrl else { return Result(disposition: .held) }
                guard let secret = secrets.open(bot.channelSecret, context: BotService.secretContext(projectId: bot.projectId, botId: bot.id))
                else { return Result(disposition: .notSent, errorClass: "secret_unreadable") }
                target = (url, [secret], nil)
            }
        } catch {
            return Result(disposition: .notSent, errorClass: "store")
        }
        let url: WebhookURL
        do {
            url = try parsedURLs.url(target.url, allowHTTP: destinationGuard.allowInsecure)
            try await destinationGuard.checkAddresses(of: url)
        } catch {
            return Result(disposition: .notSent, errorClass: "blocked_address")
        }
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("X-Jelou-Signature", WebhookSignature.jelou(secret: target.secrets[0], body: event.body)),
            ("webhook-id", event.id),
            ("webhook-timestamp", String(time.millisecondsSince1970 / 1000)),
            ("webhook-signature", WebhookSignature.standard(
                secrets: target.secrets, id: event.id, timestamp: time.millisecondsSince1970 / 1000, body: event.body)),
            ("User-Agent", "Relevo/\(Relevo.version)"),
        ]
        if let credential = target.credential { headers.append(credential) }
        let sent = await sender.post(url: url, headers: headers, body: event.body)
        return Result(disposition: .sent, statusCode: sent.statusCode, errorClass: sent.errorClass,
                      responseBody: sent.responseBody, retryAfter: sent.retryAfter)
    }
}

/// Webhook addresses by their text, as ``WebhookURL/parse(_:allowHTTP:)`` read them.
private final class ParsedURLs: Sendable {
    private let urls = Mutex<[String: WebhookURL]>([:])
    /// Past this many addresses the cache simply starts over.
    private static let capacity = 4096

    func url(_ text: String, allowHTTP: Bool) throws(WebhookURL.Problem) -> WebhookURL {
        if let url = urls.withLock({ $0[text] }) { return url }
        let url = try WebhookURL.parse(text, allowHTTP: allowHTTP)
        urls.withLock { urls in
            if urls.count >= Self.capacity { urls.removeAll(keepingCapacity: true) }
            urls[text] = url
        }
        return url
    }
}
