import Synchronization

/// Writes submitted while a write is running are committed together in the next transaction.
///
/// Settling an attempt is one small write, and with `synchronous=FULL` every commit waits for the
/// disk; batching the settlements of all attempts that finish meanwhile turns N fsyncs into one,
/// while each caller still returns only once its own write is durable.
final class GroupCommit<Item: Sendable>: Sendable {
    private struct State {
        var pending: [(item: Item, waiter: CheckedContinuation<Void, any Error>)] = []
        var flushing = false
    }

    private let state = Mutex(State())

    init() {}

    /// Returns when `item` is committed (or throws what the batch's commit threw). `commit` writes a
    /// batch in one transaction; the caller that finds no write running drives it with its own `commit`.
    func submit(_ item: Item, commit: @escaping @Sendable ([Item]) async throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let leads = state.withLock { state -> Bool in
                state.pending.append((item, waiter))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if leads { Task { await self.drain(commit) } }
        }
    }

    private func drain(_ commit: @Sendable ([Item]) async throws -> Void) async {
        while true {
            let batch = state.withLock { state -> [(item: Item, waiter: CheckedContinuation<Void, any Error>)] in
                let batch = state.pending
                state.pending.removeAll()
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await commit(batch.map(\.item))
                for entry in batch { entry.waiter.resume() }
            } catch {
                for entry in batch { entry.waiter.resume(throwing: error) }
            }
        }
    }
}
