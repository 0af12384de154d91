import Foundation
import Testing

@testable import Relevo

@Suite("No secret in logs or responses")
struct SecretHygieneTests {
    @Test func logsNeverContainKeysSecretsOrCredentials() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let box = SendableBox()
        var exposed: [String] = [harness.apiKey, "panel-token-123", "s3cr3t-basic-pw"]
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            box.secret = created.string("data", "signingSecret")
            try await api.call(.get, api.integrationPath)
            try await api.call(.patch, api.integrationPath, body: #"{"authType":"basic","authorization":"bob:s3cr3t-basic-pw"}"#)
            try await api.call(.patch, api.integrationPath, body: #"{"authType":"basic","authorization":"bad\r\nline"}"#)
            let regenerated = try await api.call(.post, api.integrationPath + "/secret/regenerate", body: #"{"graceSeconds":60}"#)
            box.readBefore = regenerated.string("data", "signingSecret")
            try await api.call(.get, api.integrationPath, key: .some("rlv_wrong-key"))
            try await api.call(.post, api.integrationPath, body: "{broken")
            try await api.call(.delete, api.integrationPath)
        }
        exposed += [try #require(box.secret), try #require(box.readBefore)]
        let lines = harness.logs.all
        #expect(lines.count >= 8)  // one line per request at least: logging is really on
        for line in lines {
            for value in exposed {
                #expect(!line.contains(value), "a log line contains a secret: \(line.prefix(80))")
            }
            #expect(!line.contains("rlv_wrong-key"))
        }
    }

    @Test func onlyCreateAndRegenerateResponsesShowTheSecret() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            let secret = try #require(created.string("data", "signingSecret"))
            let others = [
                try await api.call(.get, api.integrationPath),
                try await api.call(.patch, api.integrationPath, body: #"{"webhookUrl":"https://93.184.215.14/z"}"#),
                try await api.createIntegration(),
                try await api.call(.post, api.integrationPath, body: #"{"webhookUrl":"http://x"}"#),
            ]
            for reply in others {
                #expect(!reply.text.contains(secret))
                #expect(!reply.text.contains("panel-token-123"))
                #expect(!reply.text.contains(harness.apiKey))
            }
        }
    }
}
