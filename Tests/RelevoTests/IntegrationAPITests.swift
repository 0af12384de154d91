import Foundation
import HTTPTypes
import Testing

@testable import Relevo

@Suite("Integration API E1-E5")
struct IntegrationAPITests {
    @Test func createReturnsTheRecordAndASecretShownOnce() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            #expect(created.status == .ok)
            #expect(created.headers[.contentType] == "application/json; charset=utf-8")
            #expect(created.json["message"] == .array(["Integration created successfully"]))
            guard case .object(let data) = created.data else { Issue.record("no data"); return }
            #expect(data.map(\.key) == ["id", "brainId", "webhookUrl", "authType", "signingSecret", "createdAt", "updatedAt"])
            let secret = try #require(created.string("data", "signingSecret"))
            #expect(secret.count == 64 && secret.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(created.string("data", "brainId") == harness.projectId)
            #expect(created.string("data", "authType") == "bearer")
            #expect(!created.text.contains("panel-token-123"))

            let read = try await api.call(.get, api.integrationPath)
            #expect(read.status == .ok)
            #expect(read.text.hasPrefix(#"{"message":["Integration retrieved successfully"],"statusMessage":"success","status":1,"data":{"id":""#))
            guard case .object(let readData) = read.data else { Issue.record("no data"); return }
            #expect(readData.map(\.key) == ["id", "brainId", "webhookUrl", "authType", "createdAt", "updatedAt"])
            #expect(!read.text.contains(secret))
            #expect(!read.text.contains("panel-token-123"))
        }
    }

    @Test func timestampsAreISO8601WithMilliseconds() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            let createdAt = try #require(created.string("data", "createdAt"))
            #expect(createdAt.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
        }
    }

    @Test func secondCreateIsAConflict() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            try await api.createIntegration()
            let again = try await api.createIntegration()
            #expect(again.status == .conflict)
            #expect(again.errorKey == "INTEGRATION_ALREADY_EXISTS")
            #expect(again.string("error", "code") == "E0409")
        }
    }

    @Test func getWithoutIntegrationIs404InTheEnvelope() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.get, api.integrationPath)
            #expect(reply.status == .notFound)
            #expect(reply.errorKey == "INTEGRATION_NOT_FOUND")
            #expect(reply.json["statusMessage"] == "failed")
            #expect(reply.json["status"] == 0)
            for language in ["en", "es", "pt"] {
                #expect(reply.string("error", "developerMessages", language)?.isEmpty == false)
                #expect(reply.string("error", "clientMessages", language)?.isEmpty == false)
            }
            #expect(reply.json["validationError"] == nil)
            // PATCH checks its fields before existence (the README's check order): 400 first, then 404.
            let badPatch = try await api.call(.patch, api.integrationPath, body: #"{"webhookUrl":"ftp://x","authType":"zzz"}"#)
            #expect(badPatch.status == .badRequest)
            #expect(badPatch.invalidFields == ["webhookUrl", "authType"])
            #expect(try await api.call(.patch, api.integrationPath, body: #"{"authType":"no_auth"}"#).errorKey == "INTEGRATION_NOT_FOUND")
        }
    }

    @Test func noAuthIgnoresAndDoesNotStoreTheCredential() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.createIntegration(#"{"webhookUrl":"https://93.184.215.14/x","authorization":"ignored"}"#)
            #expect(reply.status == .ok)
            #expect(reply.string("data", "authType") == "no_auth")
        }
        let stored = try await harness.app.store.integration(projectId: harness.projectId)
        #expect(stored?.authorization == nil)
    }

    @Test func patchChangesOnlyWhatIsSentAndKeepsTheSecret() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            let secret = try #require(created.string("data", "signingSecret"))
            try await Task.sleep(for: .milliseconds(5))
            let patched = try await api.call(.patch, api.integrationPath, body: #"{"webhookUrl":"https://93.184.215.15/new"}"#)
            #expect(patched.status == .ok)
            #expect(patched.json["message"] == .array(["Integration updated successfully"]))
            #expect(patched.string("data", "webhookUrl") == "https://93.184.215.15/new")
            #expect(patched.string("data", "authType") == "bearer")
            #expect(patched.string("data", "createdAt") == created.string("data", "createdAt"))
            #expect(patched.string("data", "updatedAt") != created.string("data", "updatedAt"))
            #expect(!patched.text.contains(secret))
            #expect(try await harness.app.integrations.signingSecrets(projectId: harness.projectId) == [secret])

            let toNoAuth = try await api.call(.patch, api.integrationPath, body: #"{"authType":"no_auth"}"#)
            #expect(toNoAuth.string("data", "authType") == "no_auth")
        }
        #expect(try await harness.app.store.integration(projectId: harness.projectId)?.authorization == nil)
    }

    @Test func patchValidationFailuresAre400WithFields() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            try await api.createIntegration()
            let badURL = try await api.call(.patch, api.integrationPath, body: #"{"webhookUrl":"http://93.184.215.14/x"}"#)
            #expect(badURL.status == .badRequest)
            #expect(badURL.errorKey == "BAD_REQUEST")
            #expect(badURL.invalidFields == ["webhookUrl"])

            let needsCredential = try await api.call(.patch, api.integrationPath, body: #"{"authType":"api_key"}"#)
            #expect(needsCredential.status == .badRequest)
            #expect(needsCredential.invalidFields == ["authorization"])

            let wrongType = try await api.call(.patch, api.integrationPath, body: #"{"authType":7}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.invalidFields == ["authType"])

            let unchanged = try await api.call(.get, api.integrationPath)
            #expect(unchanged.string("data", "authType") == "bearer")
            #expect(unchanged.string("data", "webhookUrl") == "https://93.184.215.14/hook")
        }
    }

    @Test func patchWithoutIntegrationIs404() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.patch, api.integrationPath, body: #"{"webhookUrl":"https://93.184.215.14/x"}"#)
            #expect(reply.status == .notFound)
            #expect(reply.errorKey == "INTEGRATION_NOT_FOUND")
        }
    }

    @Test func deleteThenCreateIssuesANewSecret() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let first = try await api.createIntegration()
            let deleted = try await api.call(.delete, api.integrationPath)
            #expect(deleted.status == .ok)
            #expect(deleted.text == #"{"message":["Integration deleted successfully"],"statusMessage":"success","status":1}"#)
            #expect(await api.statusOf(.get, api.integrationPath) == .notFound)
            #expect(await api.statusOf(.delete, api.integrationPath) == .notFound)
            let second = try await api.createIntegration()
            #expect(second.status == .ok)
            #expect(second.string("data", "signingSecret") != first.string("data", "signingSecret"))
            #expect(second.string("data", "id") != first.string("data", "id"))
        }
    }

    @Test func regenerateReplacesTheSecretAndHonoursGrace() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration()
            let original = try #require(created.string("data", "signingSecret"))
            let path = api.integrationPath + "/secret/regenerate"

            let noGrace = try await api.call(.post, path)
            #expect(noGrace.status == .ok)
            #expect(noGrace.json["message"] == .array(["Signing secret regenerated successfully"]))
            guard case .object(let data) = noGrace.data else { Issue.record("no data"); return }
            #expect(data.map(\.key) == ["brainId", "signingSecret", "regeneratedAt"])
            let second = try #require(noGrace.string("data", "signingSecret"))
            #expect(second != original && second.count == 64)
            #expect(try await harness.app.integrations.signingSecrets(projectId: harness.projectId) == [second])

            let withGrace = try await api.call(.post, path, body: #"{"graceSeconds":3600}"#)
            let third = try #require(withGrace.string("data", "signingSecret"))
            #expect(try await harness.app.integrations.signingSecrets(projectId: harness.projectId) == [third, second])

            for bad in [#"{"graceSeconds":-1}"#, #"{"graceSeconds":604801}"#, #"{"graceSeconds":"60"}"#, #"{"graceSeconds":1.5}"#] {
                let reply = try await api.call(.post, path, body: bad)
                #expect(reply.status == .unprocessableContent, "\(bad)")
                #expect(reply.invalidFields == ["graceSeconds"])
            }
            #expect(try await harness.app.integrations.signingSecrets(projectId: harness.projectId) == [third, second])
        }
    }

    @Test func regenerateWithoutIntegrationIs404() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.post, api.integrationPath + "/secret/regenerate")
            #expect(reply.status == .notFound)
            #expect(reply.errorKey == "INTEGRATION_NOT_FOUND")
        }
    }

    @Test(arguments: ["/platform/v1", "/jelouapi/v1"])
    func everyRouteIsAlsoUnderTheGatewayPrefixes(prefix: String) async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let path = "\(prefix)/external-support/\(harness.projectId)"
            #expect(await api.statusOf(.post, path, body: #"{"webhookUrl":"https://93.184.215.14/hook"}"#) == .ok)
            #expect(await api.statusOf(.get, path) == .ok)
            #expect(await api.statusOf(.patch, path, body: "{}") == .ok)
            #expect(await api.statusOf(.post, path + "/secret/regenerate") == .ok)
            #expect(await api.statusOf(.delete, path) == .ok)
        }
    }
}
