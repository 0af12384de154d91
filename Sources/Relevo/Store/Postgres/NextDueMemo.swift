import Synchronization

/// When the next head not yet due comes due, as far as this instance knows, so that the
/// dispatcher's sleep after an empty claim costs no query: `heads` is read once, the retries this
/// instance schedules move the answer earlier, and it is read again once the answer has passed.
///
/// A retry another instance schedules, or the end of a lease a dead instance held, is not seen here:
/// the dispatcher's idle poll (a second) bounds how late this instance takes it up. One caller at a
/// time (the dispatcher's loop): two reads at once could leave the older answer.
final class NextDueMemo: Sendable {
    private struct State {
        /// The last read's `after` and what it found (nil: nothing ahead), with the retries since.
        var known: (after: Int64, next: Int64?)?
        /// The earliest retry scheduled since the read in flight began.
        var scheduledDuringRead: Int64?
    }

    private let state = Mutex(State())

    /// The earliest due time after `after` (milliseconds), from memory while it holds, else by `read`.
    func next(after: Int64, read: () async throws -> Int64?) async throws -> Int64? {
        let remembered = state.withLock { state -> Int64?? in
            guard let known = state.known, known.after <= after, known.next.map({ $0 > after }) ?? true else {
                state.scheduledDuringRead = nil
                return nil
            }
            return .some(known.next)
        }
        if let remembered { return remembered }
        let found = try await read()
        return state.withLock { state in
            let next = [found, state.scheduledDuringRead].compactMap { $0 }.min()
            state.known = (after, next)
            return next
        }
    }

    /// This instance made an event due again at `time` (a retry).
    func scheduled(_ time: Int64) {
        state.withLock { state in
            state.scheduledDuringRead = min(state.scheduledDuringRead ?? time, time)
            guard let known = state.known else { return }
            state.known = (known.after, min(known.next ?? time, time))
        }
    }
}
