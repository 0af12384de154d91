import Synchronization

/// Recent DNS answers for the address rule's re-check before each delivery attempt.
///
/// Without it every attempt to a panel named by host would resolve that name again: a `getaddrinfo`
/// on NIO's thread pool and, with glibc (no DNS cache of its own), a query to the resolver, per
/// webhook. An answer is reused for `lifetime` (a second, as
/// ``DestinationGuard`` sets it), so a host that starts resolving to a forbidden address is still
/// refused within that time. This is not what keeps Relevo out of the operator's network: ``WebhookClient`` resolves the
/// host afresh for every new connection and connects only to the addresses it checked, and a kept-alive
/// connection stays with the address checked when it opened.
///
/// Lookups of one host that overlap share one resolution.
final class RecentResolutions: Sendable {
    private struct Answer {
        let addresses: Task<[IPAddress], Never>
        let expires: ContinuousClock.Instant
    }

    private let lifetime: Duration
    private let lookup: @Sendable (String) async -> [IPAddress]
    private let answers = Mutex<[String: Answer]>([:])
    /// Past this many hosts the cache simply starts over.
    private static let capacity = 1024

    init(lifetime: Duration, lookup: @escaping @Sendable (String) async -> [IPAddress]) {
        self.lifetime = lifetime
        self.lookup = lookup
    }

    /// Every address `host` resolves to (empty when it does not), as answered at most `lifetime` ago.
    func addresses(of host: String) async -> [IPAddress] {
        let now = ContinuousClock.now
        let answer = answers.withLock { answers in
            if let answer = answers[host], answer.expires > now { return answer }
            if answers.count >= Self.capacity { answers.removeAll(keepingCapacity: true) }
            let lookup = self.lookup
            let answer = Answer(addresses: Task { await lookup(host) }, expires: now + lifetime)
            answers[host] = answer
            return answer
        }
        return await answer.addresses.value
    }
}
