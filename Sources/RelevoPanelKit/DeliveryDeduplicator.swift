import Synchronization

/// Remembers the `webhook-id`s a panel has processed, to answer a retry of one of them with 2xx
/// and do nothing else.
///
/// Delivery is at least once: an event whose answer was lost comes again with the same
/// `webhook-id`. The memory is bounded: beyond `capacity` ids the oldest are forgotten, so a retry
/// older than that is processed again. Size it above the events a panel receives during the retry
/// schedule's span, or keep the ids in the panel's database under a unique key instead (what a
/// panel with more than one process must do).
///
/// ```swift
/// let seen = DeliveryDeduplicator(capacity: 100_000)
/// guard seen.isFirstDelivery(delivery.webhookId) else { return .ok }
/// do { try await process(delivery) } catch { seen.forget(delivery.webhookId); throw error }
/// ```
public final class DeliveryDeduplicator: Sendable {
    private struct Memory {
        var ids: Set<String> = []
        /// The ids in the order they were first seen: a ring of `capacity` slots.
        var order: [String] = []
        var next = 0
    }

    /// The most ids remembered at once; past it, each new id evicts the oldest.
    public let capacity: Int
    private let memory = Mutex(Memory())

    /// A memory of at most `capacity` ids (at least one).
    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// True the first time `webhookId` is seen (remember it and process the event); false for a repeat.
    public func isFirstDelivery(_ webhookId: String) -> Bool {
        memory.withLock { memory in
            guard memory.ids.insert(webhookId).inserted else { return false }
            if memory.order.count < capacity {
                memory.order.append(webhookId)
            } else {
                memory.ids.remove(memory.order[memory.next])
                memory.order[memory.next] = webhookId
                memory.next = (memory.next + 1) % capacity
            }
            return true
        }
    }

    /// Forgets `webhookId`, so that its next delivery is processed: call it when processing failed
    /// and the panel answers with an error for Relevo to retry.
    public func forget(_ webhookId: String) {
        memory.withLock { memory in
            guard memory.ids.remove(webhookId) != nil, let index = memory.order.firstIndex(of: webhookId) else { return }
            memory.order[index] = ""  // a slot no id can fill (ids are never empty)
        }
    }

    /// How many ids are remembered.
    public var count: Int { memory.withLock { $0.ids.count } }
}
