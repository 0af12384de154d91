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
    private let parsedURLs = Memo<WebhookURL>()
    /// Signing keys prepared once per secret (a regenerated secret is another text, so another key).
    private let signingKeys = Memo<SigningKey>()

    public init(store: any RelevoStore, integrations: IntegrationService, secrets: SecretBox,
                destinationGuard: DestinationGuard, sender: WebhookSender) {
        self.store = store
        self.integrations = integrations
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.sender = sender
    }

    private func signingKey(_ secret: String) -> SigningKey {
        signingKeys.value(for: secret, make: SigningKey.init(secret:))
    }

    func run(_ event: OutboxEvent, attemptNumber: Int, at time: Timestamp) async -> Result {
        let target: (url: String, keys: [SigningKey], credential: (String, String)?)
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
                target = (integration.webhookUrl, signing.map(signingKey), credential)
            case .channel(let botId):
                guard let bot = try await store.bot(projectId: event.projectId, id: botId) else {
                    return Result(disposition: .cancelled, errorClass: "bot_deleted")
                }
                guard let url = bot.channelWebhookUrl else { return Result(disposition: .held) }
                guard let secret = secrets.open(bot.channelSecret, context: BotService.secretContext(projectId: bot.projectId, botId: bot.id))
                else { return Result(disposition: .notSent, errorClass: "secret_unreadable") }
                target = (url, [signingKey(secret)], nil)
            }
        } catch {
            return Result(disposition: .notSent, errorClass: "store")
        }
        let url: WebhookURL
        do {
            url = try parsedURLs.value(for: target.url) { text throws(WebhookURL.Problem) in
                try WebhookURL.parse(text, allowHTTP: destinationGuard.allowInsecure)
            }
            try await destinationGuard.checkAddresses(of: url)
        } catch {
            return Result(disposition: .notSent, errorClass: "blocked_address")
        }
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("X-Jelou-Signature", WebhookSignature.jelou(key: target.keys[0], body: event.body)),
            ("webhook-id", event.id),
            ("webhook-timestamp", String(time.millisecondsSince1970 / 1000)),
            ("webhook-signature", WebhookSignature.standard(
                keys: target.keys, id: event.id, timestamp: time.millisecondsSince1970 / 1000, body: event.body)),
            ("User-Agent", "Relevo/\(Relevo.version)"),
        ]
        if let credential = target.credential { headers.append(credential) }
        let sent = await sender.post(url: url, headers: headers, body: event.body)
        return Result(disposition: .sent, statusCode: sent.statusCode, errorClass: sent.errorClass,
                      responseBody: sent.responseBody, retryAfter: sent.retryAfter)
    }
}

/// Values made from a text once and kept by it: parsed webhook addresses, prepared signing keys.
private final class Memo<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])
    /// Past this many texts the memo simply starts over.
    private static var capacity: Int { 4096 }

    func value<Failure: Error>(for text: String, make: (String) throws(Failure) -> Value) throws(Failure) -> Value {
        if let value = values.withLock({ $0[text] }) { return value }
        let value = try make(text)
        values.withLock { values in
            if values.count >= Self.capacity { values.removeAll(keepingCapacity: true) }
            values[text] = value
        }
        return value
    }
}
