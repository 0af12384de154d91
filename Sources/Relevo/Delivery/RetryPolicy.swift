import Foundation

/// When to try a failed delivery again (§5.2): a value, with the random source injected so tests are exact.
package struct RetryPolicy: Sendable {
    /// Delay after the 1st, 2nd, … failed attempt; its length + 1 is the number of attempts.
    package var schedule: [Duration]
    /// ± fraction applied to each delay.
    package var jitter: Double

    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over ~27.6 h.
    package static let standard = RetryPolicy(
        schedule: [.seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000), .seconds(36000), .seconds(36000)],
        jitter: 0.1)

    package init(schedule: [Duration], jitter: Double) {
        self.schedule = schedule
        self.jitter = jitter
    }

    /// The delay before the next attempt after `failedAttempts` failures, or nil when they are exhausted.
    /// `retryAfter` (from 429/503) replaces the scheduled delay, capped at twice that step.
    package func delay(
        afterFailedAttempts failedAttempts: Int, retryAfter: Duration? = nil,
        random: () -> Double = { Double.random(in: 0..<1) }
    ) -> Duration? {
        guard failedAttempts >= 1, failedAttempts <= schedule.count else { return nil }
        let step = schedule[failedAttempts - 1]
        if let retryAfter { return min(retryAfter, step * 2) }
        let factor = 1 + jitter * (random() * 2 - 1)
        let milliseconds = Double(step.components.seconds) * 1000 + Double(step.components.attoseconds) / 1e15
        return .milliseconds(Int64((milliseconds * factor).rounded()))  // timestamps are kept in milliseconds
    }

    /// The longest delay a schedule may hold: a month is already longer than any panel outage worth
    /// waiting for, and keeps every due time far from the limits of the millisecond timestamps.
    package static let maximumDelayDays = 30
    package static let maximumDelay = Duration.seconds(maximumDelayDays * 86_400)

    /// Parses `5s,5m,30m,2h` (units ms, s, m, h); nil when any part is empty, is not a duration or is
    /// longer than ``maximumDelay`` (so `,` or `5s,,5m` is a typo, not a schedule without retries).
    package static func parseSchedule(_ text: String) -> [Duration]? {
        var result: [Duration] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            let unitStart = trimmed.firstIndex(where: { !$0.isNumber }) ?? trimmed.endIndex
            guard let amount = Int(trimmed[..<unitStart]), amount >= 0 else { return nil }
            let milliseconds: Int
            switch trimmed[unitStart...] {
            case "ms": milliseconds = 1
            case "s": milliseconds = 1000
            case "m": milliseconds = 60_000
            case "h": milliseconds = 3_600_000
            default: return nil
            }
            // Compared before multiplying, so that no amount can overflow.
            guard amount <= maximumDelayDays * 86_400_000 / milliseconds else { return nil }
            result.append(.milliseconds(amount * milliseconds))
        }
        return result
    }
}
