import Foundation
import HTTPTypes
import Testing

@testable import Relevo

/// What the console needs from the server: its files, with the policy that keeps them to this
/// origin, and the project of a key.
@Suite("Console routes")
struct ConsoleRouteTests {
    @Test func theConsoleIsServedWithAStrictPolicy() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            for (path, type) in [
                ("/console", "text/html; charset=utf-8"), ("/console/console.js", "text/javascript; charset=utf-8"),
                ("/console/console.css", "text/css; charset=utf-8"),
            ] {
                let reply = try await api.call(.get, path, key: .some(nil))
                #expect(reply.status == .ok, "\(path)")
                #expect(reply.headers[.contentType] == type)
                let policy = reply.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
                #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "\(path)")
                #expect(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"), "\(path)")
                #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(reply.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            let page = try await api.call(.get, "/console", key: .some(nil))
            #expect(page.text.contains(#"<script src="/console/console.js" defer></script>"#))
            #expect(!page.text.contains("<script>"), "no inline script")
            #expect(try await api.call(.post, "/console", key: .some(nil)).status == .methodNotAllowed)
        }
    }

    @Test func aKeyNamesItsProject() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.get, "/v1/projects/current")
            #expect(reply.status == .ok)
            #expect(reply.string("data", "projectId") == harness.projectId)
            #expect(reply.string("data", "name") == "default")
            #expect(try await api.call(.get, "/jelouapi/v1/projects/current").string("data", "projectId") == harness.projectId)
            #expect(try await api.call(.get, "/v1/projects/current", key: "rlv_not-a-key").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/projects/current", key: .some(nil)).status == .unauthorized)
            let revoked = try await harness.app.projects.createKey(projectId: harness.projectId)
            #expect(try await api.call(.get, "/v1/projects/current", key: revoked.apiKey).status == .ok)
            _ = try await harness.app.projects.revokeKey(projectId: harness.projectId, keyId: nil, apiKey: revoked.apiKey)
            #expect(try await api.call(.get, "/v1/projects/current", key: revoked.apiKey).status == .unauthorized)
        }
    }

    @Test func theDeliverySummaryStartsEmpty() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.get, "/v1/external-support/\(harness.projectId)/delivery-summary")
            #expect(
                reply.text
                    == #"{"message":["Delivery summary retrieved successfully"],"statusMessage":"success","status":1,"data":{"queueDepth":0,"oldestPendingAt":null,"lastHour":{"delivered":0,"failed":0},"failedTotal":0,"lastDeliveredAt":null}}"#
            )
            #expect(try await api.call(.get, "/v1/external-support/other-project/delivery-summary").status == .unauthorized)
        }
    }
}
