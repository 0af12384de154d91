import Foundation
import Testing

@testable import Relevo

@Suite("Bots through the API")
struct BotAPITests {
    /// `GET …/bots`: the project's bots oldest first, with the fields `GET …/bots/{id}` shows and never a secret.
    @Test func listingBotsShowsThemOldestFirstWithoutSecrets() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let path = "/v1/projects/\(harness.projectId)/bots"
            let empty = try await api.call(.get, path)
            #expect(empty.status == .ok)
            #expect(empty.text == #"{"message":["Bots retrieved successfully"],"statusMessage":"success","status":1,"data":[]}"#)

            let first = try await api.call(.post, path, body: #"{"id":"sales","name":"Sales","channelWebhookUrl":"https://93.184.215.14/channel"}"#)
            let second = try await api.call(.post, path, body: #"{"id":"care","name":"Care <b>bot</b>"}"#)
            #expect(first.status == .ok && second.status == .ok)
            let listed = try await api.call(.get, path)
            #expect(listed.status == .ok)
            guard case .array(let bots) = listed.data else {
                Issue.record("data is not an array: \(listed.text)")
                return
            }
            // Oldest first; two bots created in the same millisecond come in the order of their ids.
            let created = [first, second].map { ($0.string("data", "createdAt") ?? "", $0.string("data", "id") ?? "") }
            let expected = created.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
            #expect(bots.count == 2)
            for (bot, id) in zip(bots, expected) {
                let one = try await api.call(.get, "\(path)/\(id)")
                #expect(bot == one.data, "the list shows each bot as its own route does")
            }
            #expect(!listed.text.contains("channelSigningSecret"))
            #expect(!listed.text.contains(first.string("data", "channelSigningSecret") ?? "no secret"))
            #expect(try await api.call(.get, path, key: "rlv_not-a-key").status == .unauthorized)
        }
    }
}
