import Synchronization

/// Gathers concurrent statements of one kind into batches: what arrives while one batch runs goes
/// into the next, one statement (and, for writes, one commit) for all of it. Each caller is answered
/// once the batch holding its item has run, so a write is answered after its commit, and a read is
/// answered with what a statement that began after the call found: as fresh as a read of its own.
///
/// Under load, one statement per item made the round trip (its pooled connection, its task hops,
/// and for writes the commit's WAL flush) the larger part of an item's cost. A lone item waits for
/// nothing: it is a batch of one, run at once. `run` answers each item of a batch in order; a batch
/// that throws (the database gone) fails every caller in it, none of whose writes was made.
final class StatementBatcher<Item: Sendable, Answer: Sendable>: Sendable {
    private struct Waiting {
        let item: Item
        let continuation: CheckedContinuation<Answer, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        /// Batches running now, at most `lanes`.
        var running = 0
    }

    private let limit: Int
    /// How many batches may run at once: with two, an item that comes while one runs starts at once
    /// in a second one instead of waiting for the first to end.
    private let lanes: Int
    /// Items with the same key never share a batch: the later one waits for the next, in its order.
    private let key: (@Sendable (Item) -> String)?
    private let state = Mutex(State())

    /// Batches of at most `limit` items, `lanes` of them at once; with `key`, at most one item of each
    /// key per batch, and one batch at a time (a later item of a key must find the earlier one's effect).
    init(limit: Int, lanes: Int = 1, key: (@Sendable (Item) -> String)? = nil) {
        precondition(key == nil || lanes == 1, "items with keys run one batch at a time")
        self.limit = limit
        self.lanes = lanes
        self.key = key
    }

    /// Runs `item` with the others that come meanwhile, by `run` (which runs one batch and answers
    /// its items, in order); `item`'s answer.
    func submit(
        _ item: Item, by run: @escaping @Sendable ([Item]) async throws -> [Result<Answer, any Error>]
    ) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state -> Bool in
                state.waiting.append(Waiting(item: item, continuation: continuation))
                guard state.running < lanes else { return false }
                state.running += 1
                return true
            }
            if starts { Task { await self.runBatches(by: run) } }
        }
    }

    /// Runs batches until none is waiting (one lane).
    private func runBatches(by run: @Sendable ([Item]) async throws -> [Result<Answer, any Error>]) async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = nextBatch(&state.waiting)
                if batch.isEmpty { state.running -= 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let answers = try await run(batch.map(\.item))
                precondition(answers.count == batch.count, "a batch answers each of its items")
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
