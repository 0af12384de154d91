import DequeModule
import HeapModule
import Synchronization

/// Which events the SQLite store's dispatcher may claim, kept in memory.
///
/// One SQLite server delivers per file (its server lock, docs/operating.md), so the schedule need
/// not be shared: the events table stays the durable record, and this is its index of *heads* — the
/// oldest unsettled event of each ordering key, the only one of the key that may go out. Every write that changes
/// a head (new events, settlements, redeliveries, holds released, cancellations) reports the key's
/// head as of its transaction, and the store applies those reports right after the commit, in
/// commit order (``SQLiteWriteQueue``). A claim is then a few heap operations, however many events
/// wait, and no write maintains a heads table.
///
/// Heads wait in a heap by due time; a claim moves the due ones to one heap per destination, by
/// age, so a destination without room costs a claim nothing.
final class SQLiteDeliverySchedule: Sendable {
    /// The oldest unsettled event of an ordering key.
    struct Head: Sendable {
        let seq: Int64
        let id: String
        let orderingKey: String
        /// ``OutboxEvent/destinationKey``.
        let destination: String
        /// Waiting for its bot's `channelWebhookUrl`: never claimed.
        let held: Bool
        /// `next_attempt_at` in milliseconds.
        let due: Int64
        /// The event itself, as the transaction that filed the head saw it (nil for heads read at
        /// start): a claim then sends it without reading it back.
        var event: OutboxEvent?
    }

    /// An ordering key and its head (nil: nothing unsettled left).
    typealias KeyHead = (key: String, head: Head?)

    private struct Ready: Comparable {
        let seq: Int64
        let key: String
        static func < (a: Ready, b: Ready) -> Bool { a.seq < b.seq }
    }

    private struct Later: Comparable {
        let due: Int64
        let seq: Int64
        let key: String
        static func < (a: Later, b: Later) -> Bool { (a.due, a.seq) < (b.due, b.seq) }
    }

    private struct State {
        let carryLimit: Int
        var heads: [String: Head] = [:]
        /// Events written behind their key's head, carried, in order: when a settlement moves the
        /// head on to one of them, the claim sends it without reading it back, and the settlement
        /// need not read its body either. Not necessarily all of them (the carry limit, events
        /// written before the start); a head's event is taken from here only when its seq matches.
        var successors: [String: Deque<Head>] = [:]
        /// Heads and successors that carry their event (see ``Head/event``).
        var carrying = 0
        /// Unclaimed heads that were due at the last claim, by destination. Entries go stale when
        /// their head moves on; a stale entry is dropped when it comes to the top.
        var ready: [String: Heap<Ready>] = [:]
        var later = Heap<Later>()
        /// Events with an attempt in flight, with their ordering keys and rows.
        var claimed: [String: Claim] = [:]

        /// Sets (or, with nil, removes) the head of `key`. Past `carryLimit` heads carrying their
        /// event, a new head keeps only its position: a backlog (a slow panel, thousands of
        /// conversations) must not hold every waiting body in memory; those heads are read back when
        /// claimed.
        mutating func setHead(_ head: Head?, of key: String) {
            if heads[key]?.event != nil { carrying -= 1 }
            guard var head else {
                heads[key] = nil
                if let line = successors.removeValue(forKey: key) { carrying -= line.count }
                return
            }
            if var line = successors.removeValue(forKey: key) {
                // Events before the new head have been settled: what is left of the line follows it.
                while let first = line.first, first.seq <= head.seq {
                    line.removeFirst()
                    carrying -= 1
                    if first.seq == head.seq, head.event == nil, let event = first.event {
                        head.event = OutboxEvent(refreshing: event, held: head.held, due: head.due)
                    }
                }
                if !line.isEmpty { successors[key] = line }
            }
            if head.event != nil {
                if carrying < carryLimit { carrying += 1 } else { head.event = nil }
            }
            heads[key] = head
        }

        /// Files `head` where a claim will look for it: by due time; a claim moves it to its
        /// destination's line when due (so filing needs no clock).
        mutating func file(_ head: Head) {
            guard !head.held, claimed[head.id] == nil else { return }
            later.insert(Later(due: head.due, seq: head.seq, key: head.orderingKey))
        }

        /// The head an entry stands for, if it is still the key's head and free to claim.
        func isCurrent(seq: Int64, key: String) -> Head? {
            guard let head = heads[key], head.seq == seq, !head.held, claimed[head.id] == nil else { return nil }
            return head
        }
    }

    private let state: Mutex<State>

    /// `carryLimit`: most events carried at once, heads and successors (~1 KiB each with its body).
    init(carryLimit: Int = 10_000) {
        state = Mutex(State(carryLimit: carryLimit))
    }

    /// Replaces everything with `heads` (read at start from the events table).
    func load(_ heads: [Head]) {
        state.withLock { state in
            state = State(carryLimit: state.carryLimit)
            for head in heads {
                state.setHead(head, of: head.orderingKey)
                state.file(head)
            }
        }
    }

    /// After a commit that inserted events: a key without a head gets the new event as its head;
    /// behind a head, the event waits in the key's successors while the carry limit allows.
    func offer(_ candidates: [Head]) {
        state.withLock { state in
            for head in candidates {
                guard let current = state.heads[head.orderingKey] else {
                    state.setHead(head, of: head.orderingKey)
                    state.file(head)
                    continue
                }
                guard head.event != nil, head.seq > current.seq, state.carrying < state.carryLimit else { continue }
                state.successors[head.orderingKey, default: []].append(head)
                state.carrying += 1
            }
        }
    }

    /// After a commit that changed the heads of `keys`: their heads as that transaction saw them
    /// (nil: nothing unsettled left). `settled` is an event whose attempt has ended.
    func update(_ heads: [KeyHead], settled: String? = nil) {
        state.withLock { state in
            if let settled { state.claimed[settled] = nil }
            for (key, head) in heads {
                state.setHead(head, of: key)
                if let head { state.file(head) }
            }
        }
    }

    /// Takes up to `limit` due heads, oldest first, no more per destination than `slots` allows,
    /// and marks them claimed.
    func claim(now: Int64, limit: Int, slots: DestinationSlots) -> [Head] {
        state.withLock { state in
            while let top = state.later.min, top.due <= now {
                state.later.removeMin()
                if let head = state.isCurrent(seq: top.seq, key: top.key), head.due == top.due {
                    state.ready[head.destination, default: Heap()].insert(Ready(seq: head.seq, key: head.orderingKey))
                }
            }
            var slots = slots
            var candidates: [Head] = []
            for destination in Array(state.ready.keys) {
                while slots.take(destination), var heap = state.ready.removeValue(forKey: destination) {
                    var found: Head?
                    while found == nil, let top = heap.popMin() {
                        // A head retried meanwhile is due later: its entry in `later` stands for it.
                        found = state.isCurrent(seq: top.seq, key: top.key).flatMap { $0.due <= now ? $0 : nil }
                    }
                    if !heap.isEmpty { state.ready[destination] = heap }
                    guard let found else { break }
                    candidates.append(found)
                }
            }
            candidates.sort { $0.seq < $1.seq }
            for head in candidates.dropFirst(limit) { state.file(head) }  // over the limit: back in line
            let taken = candidates.prefix(limit)
            for head in taken { state.claimed[head.id] = Claim(key: head.orderingKey, seq: head.seq) }
            return Array(taken)
        }
    }

    /// Gives claims back without an attempt: their heads are due again.
    func release(_ ids: [String]) {
        state.withLock { state in
            for id in ids {
                guard let key = state.claimed.removeValue(forKey: id)?.key else { continue }
                if let head = state.heads[key], head.id == id { state.file(head) }
            }
        }
    }

    /// How many heads carry their event now.
    var carriedEvents: Int { state.withLock { $0.carrying } }

    func isClaimed(_ id: String) -> Bool { state.withLock { $0.claimed[id] != nil } }

    /// A claimed event's ordering key and row.
    struct Claim {
        let key: String
        let seq: Int64
    }

    /// What the schedule knows of a claimed event (nil if it is not claimed).
    func claim(of id: String) -> Claim? { state.withLock { $0.claimed[id] } }

    var claimedIds: [String] { state.withLock { Array($0.claimed.keys) } }

    /// The `seq` of the oldest head not held (pending or in flight).
    func oldestWaiting() -> Int64? {
        state.withLock { state in state.heads.values.lazy.filter { !$0.held }.map(\.seq).min() }
    }

    /// The earliest due time after `now` among heads waiting for a retry.
    func nextDue(after now: Int64) -> Int64? {
        state.withLock { state in
            while let top = state.later.min {
                if state.isCurrent(seq: top.seq, key: top.key)?.due == top.due { return max(top.due, now) }
                state.later.removeMin()  // stale
            }
            return nil
        }
    }
}
