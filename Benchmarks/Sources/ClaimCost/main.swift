// Claim cost with 1 000 vs 1 000 000 pending events (must stay flat: no scans).
//
// For each size: a new SQLite file migrated by the real store, filled directly with pending `message`
// events (10 per conversation, so a tenth of them head their ordering key), then opened again as the
// server opens it (which reads every key's head into memory, timed), and the dispatcher's claim —
// `SQLiteStore.claimDueEvents`, 64 events across 4 destinations, bodies read — timed over many
// rounds; each round gives its claims back so every round claims from the same state.
//
//     swift build -c release --package-path Benchmarks --scratch-path .build-bench-tools -Xswiftc -enable-testing --product relevo-claim-cost && .build-bench-tools/release/relevo-claim-cost
import Foundation
import GRDB

@testable import Relevo

@main
struct ClaimCost {
    static func main() async throws {
        print("pending     start-up (heads into memory)   claim of 64 (median of 200)")
        for pending in [1_000, 1_000_000] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-claim-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("relevo.sqlite").path
            try await SQLiteStore(path: path).close()  // creates and migrates
            try fill(path: path, pending: pending)

            let opened = ContinuousClock.now
            let store = try SQLiteStore(path: path)
            let startup = ContinuousClock.now - opened

            let slots = DestinationSlots(maximumPerDestination: 16)
            let now = Timestamp(millisecondsSince1970: 2_000_000_000_000)
            var samples: [Duration] = []
            for _ in 0..<200 {
                let started = ContinuousClock.now
                let claimed = try await store.claimDueEvents(now: now, leaseUntil: now, limit: 64, slots: slots)
                samples.append(ContinuousClock.now - started)
                precondition(claimed.count == 64, "expected 64 claims, got \(claimed.count)")
                try await store.releaseClaims(claimed.map(\.id))
            }
            try await store.close()
            samples.sort()
            print(String(format: "%9d   %10.1f ms                    %8.3f ms", pending, milliseconds(startup), milliseconds(samples[100])))
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// `pending` events of one project, 10 per conversation, over 4 destinations (a panel and 3 bot channels).
    static func fill(path: String, pending: Int) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type,
                        status, attempt_count, next_attempt_at, created_at) VALUES (?, 'p', ?, ?, ?, ?, 'message', 'pending', 0, 0, 0)
                    """)
            let insertBody = try db.makeStatement(sql: "INSERT INTO event_bodies (seq, body) VALUES (last_insert_rowid(), ?)")
            let body = Data(#"{"event_type":"message","value":{"id":"m","type":"text","content":{"body":"benchmark"}}}"#.utf8)
            for index in 0..<pending {
                let conversation = index / 10
                let bot: String? = conversation % 4 == 0 ? nil : "bot\(conversation % 4)"
                let destination = bot == nil ? "panel" : "channel"
                try insert.execute(arguments: [
                    String(format: "evt_%024d", index), destination, bot, "\(destination):p:c\(conversation)", "c\(conversation)",
                ])
                try insertBody.execute(arguments: [body])
            }
        }
        try queue.close()
    }
}
