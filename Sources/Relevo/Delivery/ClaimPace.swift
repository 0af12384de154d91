/// Spaces the dispatcher's claims while the destinations are busy: when a claim leaves some of its
/// events waiting in line (their destinations have as many attempts in flight as they may), the next
/// claim is made no sooner than that one took. On PostgreSQL a claim is two round trips; a loop that
/// claimed again the moment one ended would take a few events each time under load, and claims would
/// be a third of the statements. The events already in line keep the destinations busy meanwhile
/// (answers start them). A claim that leaves none of its events in line, as at a moderate rate,
/// leaves the next unspaced, so an event's wait for its claim is unchanged there; a failed claim
/// (the dispatcher then backs off on its own) leaves no spacing either.
struct ClaimPace {
    /// The longest spacing: a claim that took longer waited for the database rather than worked, and
    /// its length says nothing of the load.
    static let longest: Duration = .milliseconds(20)

    /// When the next claim may be made, if the last left events waiting.
    private var notBefore: ContinuousClock.Instant?

    /// How long the next claim must still wait, or nil if it may be made now.
    func holdsBack() -> Duration? {
        guard let notBefore, case let left = notBefore - .now, left > .zero else { return nil }
        return left
    }

    /// A claim that took `took` has ended and its events have been started or put in line;
    /// `leftWaiting`: some of them wait.
    mutating func claimed(took: Duration, leftWaiting: Bool) {
        notBefore = leftWaiting ? .now + min(took, Self.longest) : nil
    }
}
