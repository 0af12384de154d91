import Synchronization

/// Gathers concurrent writes of one kind into batches: what arrives while one batch is being written
/// goes into the next, one statement and one commit for all of it. Each caller is answered once the
/// batch holding its write has committed.
///
/// Under load, one transaction per write made the commit (its WAL flush, its round trip, its pooled
/// connection) the larger part of a write's cost. A single write waits for nothing: it is a batch of
/// one, written at once. `write` answers each item of a batch in order; a batch that throws (the
/// database gone) fails every caller in it, none of whose writes was made.
final class WriteBatcher<Item: Sendable, Answer: Sendable>: Sendable {
    private struct Waiting {
        let item: Item
        let continuation: CheckedContinuation<Answer, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writing = false
    }

    private let limit: Int
    /// Items with the same key never share a batch: the later one waits for the next, in its order.
    private let key: (@Sendable (Item) -> String)?
    private let state = Mutex(State())

    /// Batches of at most `limit` items; with `key`, at most one item of each key per batch.
    init(limit: Int, key: (@Sendable (Item) -> String)? = nil) {
        self.limit = limit
        self.key = key
    }

    /// Writes `item` with the others that come meanwhile, by `write` (which writes one batch and answers
    /// its items, in order); `item`'s answer.
    func submit(
        _ item: Item, by write: @escaping @Sendable ([Item]) async throws -> [Result<Answer, any Error>]
    ) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state -> Bool in
                state.waiting.append(Waiting(item: item, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if starts { Task { await self.writeBatches(by: write) } }
        }
    }

    /// Writes batches until none is waiting.
    private func writeBatches(by write: @Sendable ([Item]) async throws -> [Result<Answer, any Error>]) async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = nextBatch(&state.waiting)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let answers = try await write(batch.map(\.item))
                precondition(answers.count == batch.count, "a batch write answers each of its items")
                for (waiting, answer) in zip(batch, answers) { waiting.continuation.resume(with: answer) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }

    /// Takes the next batch out of `waiting`, oldest first; what it leaves keeps its order.
    private func nextBatch(_ waiting: inout [Waiting]) -> [Waiting] {
        guard let key else {
            let batch = Array(waiting.prefix(limit))
            waiting.removeFirst(batch.count)
            return batch
        }
        var batch: [Waiting] = [], left: [Waiting] = [], keys: Set<String> = []
        for item in waiting {
            if batch.count < limit, keys.insert(key(item.item)).inserted { batch.append(item) } else { left.append(item) }
        }
        waiting = left
        return batch
    }
}
