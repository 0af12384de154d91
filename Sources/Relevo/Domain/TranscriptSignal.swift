import Synchronization

/// Wakes the web chat streams of a room when its history changed: a visitor's message, an agent's
/// reply, a start or a close. Each stream re-reads the history when woken, so a wake-up carries
/// nothing and a lost or extra one costs at most a read. A store shared by several instances relays
/// the changes made here to the others, and wakes the streams here for theirs.
package final class TranscriptSignal: Sendable {
    private let streams = Mutex<[String: [ObjectIdentifier: @Sendable () -> Void]]>([:])
    private let relayed = Mutex<(@Sendable (String) -> Void)?>(nil)

    package init() {}

    /// Passes every change made in this process to `announce` too (for the other instances).
    func relay(to announce: @escaping @Sendable (String) -> Void) {
        relayed.withLock { $0 = announce }
    }

    static func key(projectId: String, roomId: String) -> String { "\(projectId)/\(roomId)" }

    /// Calls `wake` on every change of the room, until ``unsubscribe(_:from:)`` with the same `stream`.
    func subscribe(_ stream: ObjectIdentifier, to key: String, wake: @escaping @Sendable () -> Void) {
        streams.withLock { $0[key, default: [:]][stream] = wake }
    }

    func unsubscribe(_ stream: ObjectIdentifier, from key: String) {
        streams.withLock { streams in
            streams[key]?[stream] = nil
            if streams[key]?.isEmpty == true { streams[key] = nil }
        }
    }

    /// The room's history changed here (after the commit).
    func changed(projectId: String, roomId: String) {
        let key = Self.key(projectId: projectId, roomId: roomId)
        wake(key)
        relayed.withLock { $0 }?(key)
    }

    /// Wakes this process's streams of the room `key` names.
    func wake(_ key: String) {
        let woken = streams.withLock { $0[key].map { Array($0.values) } ?? [] }
        for wake in woken { wake() }
    }

    /// How many streams are open (`/metrics` shows it).
    var openStreams: Int { streams.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
