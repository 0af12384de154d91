import NIOCore
import NIOPosix
import Synchronization

/// Wakes the dispatcher when events are committed, so a new event does not wait for a poll.
///
/// One waiter at a time (the dispatcher loop). A signal with no waiter is remembered, so a commit
/// that lands between two waits is never missed.
///
/// Under load the dispatcher waits and is woken twice per event (the panel answered, the attempt
/// was recorded), so a wait must cost little. The timeout is therefore one timer on an event loop
/// that outlives the waits it serves: a signal leaves it armed, and when it fires it either ends
/// the wait that is due or re-arms for the current one (a timer per wait would live for the whole
/// timeout, long after most waits ended, and pile up under load).
package final class WakeUpSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: UnsafeContinuation<Bool, Never>?
        /// When the current waiter's wait ends.
        var deadline = NIODeadline.distantFuture
        /// Counts waits: a timeout or cancellation meant for an earlier wait does nothing.
        var generation = 0
        /// The deadline of the armed timer, if any.
        var armed: NIODeadline?
    }

    private let state = Mutex(State())
    private let loop: any EventLoop

    package init(loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.loop = loop
    }

    /// Wakes the waiter, or the next one to wait.
    package func signal() {
        let waiter = state.withLock { state -> UnsafeContinuation<Bool, Never>? in
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
    package func wait(upTo timeout: Duration) async -> Bool {
        let generation: Int? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.generation += 1
            return state.generation
        }
        guard let generation else { return true }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in  // each waiter is taken out under the lock before it is resumed: once
                let (resumeNow, arm) = state.withLock { state -> (Bool?, Bool) in
                    if state.pending {
                        state.pending = false
                        return (true, false)
                    }
                    guard state.generation == generation else { return (false, false) }  // cancelled already
                    state.waiter = continuation
                    state.deadline = deadline
                    if let armed = state.armed, armed <= deadline { return (nil, false) }
                    state.armed = deadline
                    return (nil, true)
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
                if arm { schedule(at: deadline) }
            }
        } onCancel: {
            end(generation)
        }
    }

    private func schedule(at deadline: NIODeadline) {
        loop.scheduleTask(deadline: deadline) { self.fire(armedFor: deadline) }
    }

    /// The timer armed for `deadline` fired: ends the current wait if it is due, or arms for it.
    private func fire(armedFor deadline: NIODeadline) {
        let now = NIODeadline.now()
        let (waiter, rearm) = state.withLock { state -> (UnsafeContinuation<Bool, Never>?, NIODeadline?) in
            guard state.armed == deadline else { return (nil, nil) }  // a sooner timer replaced this one
            state.armed = nil
            guard let waiter = state.waiter else { return (nil, nil) }
            if state.deadline <= now {
                state.waiter = nil
                state.generation += 1
                return (waiter, nil)
            }
            state.armed = state.deadline
            return (nil, state.deadline)
        }
        waiter?.resume(returning: false)
        if let rearm { schedule(at: rearm) }
    }

    /// Ends the wait of `generation` (cancellation) without leaving a signal behind.
    private func end(_ generation: Int) {
        let waiter = state.withLock { state -> UnsafeContinuation<Bool, Never>? in
            guard state.generation == generation else { return nil }
            state.generation += 1  // a late installer of this generation resumes at once
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: false)
    }
}
