import Synchronization

/// Everything one attempt needs besides the HTTP call: where the event goes now, the secrets
/// that sign it, the credential, the address rule — read fresh on every attempt, so an updated
/// URL or a regenerated secret applies to events already queued (E3, E5).
package struct DeliveryAttemptRunner: Sendable {
    /// What an attempt did, before it is turned into an outcome.
    package struct Result: Sendable {
        /// `storeUnavailable`: nothing was sent because the store was away when the attempt read its
        /// destination; it is not an attempt at all (see ``Dispatcher``). A read that failed otherwise
        /// is a `notSent` attempt of class `store`, retried on the schedule.
        package enum Disposition: Sendable { case sent, notSent, held, cancelled, storeUnavailable }
        package var disposition: Disposition
        package var statusCode: Int? = nil
        package var errorClass: String? = nil
        package var responseBody: String? = nil
        package var retryAfter: Duration? = nil

        package var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
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
    /// By integration id; see ``panelTarget(_:)``.
    private let panelTargets = Memo<PanelTarget>()

    package init(
        store: any RelevoStore, integrations: IntegrationService, secrets: SecretBox,
        destinationGuard: DestinationGuard, sender: WebhookSender
    ) {
        self.store = store
        self.integrations = integrations
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.sender = sender
    }

    private func signingKey(_ secret: String) -> SigningKey {
        signingKeys.value(for: secret, make: SigningKey.init(secret:))
    }

    /// What a panel's attempts need from its integration, opened once per version of the record, so
    /// that an attempt neither opens two secrets and a credential nor builds the credential's header.
    private struct PanelTarget: Sendable {
        let record: IntegrationRecord
        let current: SigningKey?
        let previous: SigningKey?
        let credential: (name: String, value: String)?
    }

    private func panelTarget(_ integration: IntegrationRecord) -> PanelTarget {
        // A record read again from the cache shares its strings with the one kept: comparing is cheap.
        panelTargets.value(for: integration.id, while: { $0.record == integration }) { _ in
            let context = IntegrationService.signingContext(integration.id)
            return PanelTarget(
                record: integration,
                current: secrets.open(integration.signingSecret, context: context).map(signingKey),
                previous: integration.previousSigningSecret.flatMap { secrets.open($0, context: context) }.map(signingKey),
                credential: integration.authorization
                    .flatMap { secrets.open($0, context: IntegrationService.credentialContext(integration.id)) }
                    .flatMap { PanelCredential.header(for: integration.authType, authorization: $0) })
        }
    }

    func run(_ event: OutboxEvent, attemptNumber: Int, at time: Timestamp) async -> Result {
        let target: (url: String, keys: [SigningKey], credential: (String, String)?)
        do {
            switch event.destination {
            case .panel:
                guard let integration = try await store.integration(projectId: event.projectId) else {
                    return Result(disposition: .cancelled, errorClass: "integration_deleted")
                }
                let prepared = panelTarget(integration)
                var keys = prepared.current.map { [$0] } ?? []
                if let previous = prepared.previous, integrations.previousSecretApplies(integration) {
                    keys.append(previous)
                }
                guard !keys.isEmpty else { return Result(disposition: .notSent, errorClass: "secret_unreadable") }
                target = (integration.webhookUrl, keys, prepared.credential)
            case .channel(let botId):
                guard let bot = try await store.bot(projectId: event.projectId, id: botId) else {
                    return Result(disposition: .cancelled, errorClass: "bot_deleted")
                }
                guard let url = bot.channelWebhookUrl else { return Result(disposition: .held) }
                guard let secret = secrets.open(bot.channelSecret, context: BotService.secretContext(projectId: bot.projectId, botId: bot.id))
                else { return Result(disposition: .notSent, errorClass: "secret_unreadable") }
                target = (url, [signingKey(secret)], nil)
            }
        } catch StoreError.unavailable {
            return Result(disposition: .storeUnavailable)
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
        let headers = OutboundHeaders.make(
            eventId: event.id, body: event.body, timestamp: time.millisecondsSince1970 / 1000, keys: target.keys,
            credential: target.credential)
        let sent = await sender.post(url: url, headers: headers, body: event.body)
        return Result(
            disposition: .sent, statusCode: sent.statusCode, errorClass: sent.errorClass,
            responseBody: sent.responseBody, retryAfter: sent.retryAfter)
    }
}

/// Values made from a text once and kept by it: parsed webhook addresses, prepared signing keys,
/// what a panel's attempts need (kept by integration id while its record is unchanged).
private final class Memo<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])
    /// Past this many texts the memo simply starts over.
    private static var capacity: Int { 4096 }

    /// The value kept for `text` while `valid` holds for it, else a new one from `make`.
    func value<Failure: Error>(
        for text: String, while valid: (Value) -> Bool = { _ in true },
        make: (String) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        if let value = values.withLock({ $0[text] }), valid(value) { return value }
        let value = try make(text)
        values.withLock { values in
            if values.count >= Self.capacity { values.removeAll(keepingCapacity: true) }
            values[text] = value
        }
        return value
    }
}
