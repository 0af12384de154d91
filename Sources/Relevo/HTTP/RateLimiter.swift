import Synchronization

/// A token bucket per API key (§9: 50 requests/s sustained, burst 100, then 429 with `Retry-After`).
///
/// In memory, per process: good enough to stop a runaway client; with several instances the
/// budget is per instance (as docs/operating.md and docs/api.md say).
package final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    package let ratePerSecond: Double
    package let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// The longest `Retry-After` answered (a year): a tiny rate would otherwise ask for more seconds
    /// than an `Int` holds, and no client waits that long anyway.
    static let maximumWaitSeconds = 365 * 86_400

    /// A rate of 0 disables limiting. The command line accepts only finite values; here anything
    /// else is made harmless too (an infinite or NaN rate is no limit, a NaN burst is 1),
    /// because the arithmetic below must never trap in a running server.
    package init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond.isFinite ? ratePerSecond : 0
        self.burst = burst.isNaN ? 1 : max(burst, 1)
    }

    /// Takes one token for `key`; returns the seconds to wait when none is left, nil when allowed.
    package func acquire(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        guard ratePerSecond > 0 else { return nil }
        return buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }  // bound memory under key spraying
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * ratePerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            let wait = ((1 - bucket.tokens) / ratePerSecond).rounded(.up)
            return wait < Double(Self.maximumWaitSeconds) ? max(1, Int(wait)) : Self.maximumWaitSeconds
        }
    }
}
