/// Spaces the dispatcher's claims while the destinations are busy: when a claim leaves events waiting
/// in line (their destinations have as many attempts in flight as they may), the next claim is made no
/// sooner than that one took. On PostgreSQL a claim is two round trips; a loop that claimed again the
/// moment one ended would take a few events each time under load, and claims would be a third of the
/// statements. The events already in line keep the destinations busy meanwhile (answers start them).
/// A claim that leaves no line, as at a moderate rate, leaves the next unspaced, so an event's wait
/// for its claim is unchanged there.
struct ClaimPace {
    /// When the next claim may be made, if the last left events waiting.
    private var notBefore: ContinuousClock.Instant?

    /// How long the next claim must still wait, or nil if it may be made now.
    func holdsBack() -> Duration? {
        guard let notBefore, case let left = notBefore - .now, left > .zero else { return nil }
        return left
    }

    /// A claim began at `began` and its events have been started or put in line; `leftWaiting`: some wait.
    mutating func claimed(began: ContinuousClock.Instant, leftWaiting: Bool) {
        let end = ContinuousClock.now
        notBefore = leftWaiting ? end + (end - began) : nil
    }
}
