import Foundation
import HTTPTypes
import Testing

@testable import Relevo

@Suite("API keys (§1.5)")
struct AuthenticationTests {
    @Test func missingUnknownAndMalformedKeysAre401() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            for key: String? in [nil, "", "rlv_" + String(repeating: "0", count: 64), "not a key", String(repeating: "x", count: 5000)] {
                let reply = try await api.call(.get, api.integrationPath, key: .some(key))
                #expect(reply.status == .unauthorized)
                #expect(reply.errorKey == "UNAUTHORIZED")
                #expect(reply.string("error", "code") == "E0401")
            }
        }
    }

    @Test func aKeyWorksOnlyOnItsOwnProject() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let other = try await harness.app.projects.createProject(name: "other")
        try await harness.withClient { api in
            try await api.createIntegration()
            let otherPath = "/v1/external-support/\(other.projectId)"
            // Our key on their path, their key on our path, and a path of a project that does not exist.
            let crossed = try await api.call(.get, otherPath)
            let reverse = try await api.call(.get, api.integrationPath, key: .some(other.apiKey))
            let ghost = try await api.call(.get, "/v1/external-support/no-such-project")
            for reply in [crossed, reverse, ghost] {
                #expect(reply.status == .unauthorized)
                #expect(reply.errorKey == "UNAUTHORIZED")
            }
            #expect(crossed.text == ghost.text)  // indistinguishable from a project that does not exist
            // Their own key sees their (absent) integration, not ours.
            let own = try await api.call(.get, otherPath, key: .some(other.apiKey))
            #expect(own.status == .notFound)
            let writeAttempt = try await api.call(.delete, otherPath)
            #expect(writeAttempt.status == .unauthorized)
        }
    }

    @Test func additionalKeysWorkAndRevocationIsImmediate() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let second = try await harness.app.projects.createKey(projectId: harness.projectId)
        try await harness.withClient { api in
            #expect(await api.statusOf(.get, api.integrationPath, key: .some(second.apiKey)) == .notFound)
            let revokedById = try await harness.app.projects.revokeKey(projectId: harness.projectId, keyId: second.keyId, apiKey: nil)
            #expect(revokedById)
            #expect(await api.statusOf(.get, api.integrationPath, key: .some(second.apiKey)) == .unauthorized)
            #expect(await api.statusOf(.get, api.integrationPath) == .notFound)  // the first key still works
            let revokedByKey = try await harness.app.projects.revokeKey(projectId: harness.projectId, keyId: nil, apiKey: harness.apiKey)
            #expect(revokedByKey)
            #expect(await api.statusOf(.get, api.integrationPath) == .unauthorized)
        }
    }

    @Test func keysAreStoredOnlyAsHashes() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let keys = try await harness.app.store.keys(projectId: harness.projectId)
        #expect(keys.count == 1)
        #expect(keys[0].hash == APIKey.hash(harness.apiKey))
        #expect(harness.apiKey.hasPrefix("rlv_") && harness.apiKey.count == 68)
    }

    @Test func requestsBeyondTheBudgetAre429WithRetryAfter() async throws {
        let harness = try await Harness.make {
            $0.rateLimitPerSecond = 1; $0.rateLimitBurst = 3
        }
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            var statuses: [HTTPResponse.Status] = []
            var limited: Reply?
            for _ in 0..<5 {
                let reply = try await api.call(.get, api.integrationPath)
                statuses.append(reply.status)
                if reply.status == .tooManyRequests { limited = reply }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .notFound })
            let reply = try #require(limited)
            #expect(reply.errorKey == "RATE_LIMITED")
            #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
    }

    /// A rate so small that the wait exceeds any integer, or a burst that is not a number, must not
    /// bring the server down: the wait is capped at a year, and a NaN burst is a burst of 1.
    @Test func extremeBudgetsAnswerInsteadOfCrashing() async throws {
        // A token every 10^20 s: capped at a year. A token every 1000 s, burst 1: ~1000 s.
        for (rate, burst, expectedWait) in [(1e-20, 1.0, 31_536_000...31_536_000), (0.001, Double.nan, 900...1000)] {
            let harness = try await Harness.make {
                $0.rateLimitPerSecond = rate; $0.rateLimitBurst = burst
            }
            defer { harness.removeFiles() }
            try await harness.withClient { api in
                #expect(try await api.call(.get, api.integrationPath).status == .notFound)
                let limited = try await api.call(.get, api.integrationPath)
                #expect(limited.status == .tooManyRequests)
                #expect(expectedWait.contains(Int(limited.headers[.retryAfter] ?? "") ?? 0))
            }
        }
    }
}
