import Synchronization

/// Wakes the dispatcher when events are committed, so a new event does not wait for a poll.
///
/// One waiter at a time (the dispatcher loop). A signal with no waiter is remembered, so a commit
/// that lands between two waits is never missed.
public final class WakeUpSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next one to wait.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns at the next signal (true), after `timeout` or when the task is cancelled (false).
    @discardableResult
    public func wait(upTo timeout: Duration) async -> Bool {
        let generation: Int? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.generation += 1
            return state.generation
        }
        guard let generation else { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.expire(generation)
                return false
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool? in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        guard state.generation == generation else { return false }  // expired already
                        state.waiter = continuation
                        return nil
                    }
                    if let resumeNow { continuation.resume(returning: resumeNow) }
                }
            }
            let signalled = await group.next() ?? false
            group.cancelAll()
            return signalled
        }
    }

    /// Ends the wait of `generation` (timeout or cancellation) without leaving a signal behind.
    private func expire(_ generation: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.generation == generation else { return nil }
            state.generation += 1  // a late installer of this generation resumes at once
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: false)
    }
}
