import PostgresNIO
import Synchronization

/// Writes the settlements of attempts in batches: what arrives while one batch is being written
/// goes into the next, one statement (`relevo_finish_attempts`, migration 004) and one commit for
/// all of it. Each caller is answered once the batch holding its settlement has committed.
///
/// Under load the dispatcher finishes many attempts at once, and one transaction each made the
/// commit (its WAL flush, its round trip, its pooled connection) the larger part of a settlement's
/// cost. A batch's failure (the database gone) is every caller's in it: none of them was written.
final class SettlementQueue: Sendable {
    struct Settlement: Sendable {
        let attempt: DeliveryAttempt
        let status: String
        let nextAttemptAt: Int64?
        let finishedAt: Int64?
    }

    private struct Waiting {
        let settlement: Settlement
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writing = false
    }

    /// The most settlements one statement carries (the dispatcher's attempts in flight are about that).
    static let batchLimit = 256

    private let state = Mutex(State())

    /// Writes `settlement` with the others that come meanwhile, by `write` (which writes one batch and
    /// answers the ids of the events it settled); true if its event was settled (this instance still
    /// held the lease).
    func settle(_ settlement: Settlement, by write: @escaping @Sendable ([Settlement]) async throws -> Set<String>) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state -> Bool in
                state.waiting.append(Waiting(settlement: settlement, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if starts { Task { await self.writeBatches(by: write) } }
        }
    }

    /// Writes batches until none is waiting.
    private func writeBatches(by write: @Sendable ([Settlement]) async throws -> Set<String>) async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.waiting.prefix(Self.batchLimit))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let settled = try await write(batch.map(\.settlement))
                for waiting in batch { waiting.continuation.resume(returning: settled.contains(waiting.settlement.attempt.eventId)) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
