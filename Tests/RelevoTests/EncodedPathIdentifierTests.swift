import Testing

@testable import Relevo

/// Clients that percent-encode path segments (`encodeURIComponent`, `urllib.parse.quote`) reach
/// ids such as `wa:bot.1`; what decodes to a character outside the §9 id rule is still refused.
@Suite("Percent-encoded ids in paths")
struct EncodedPathIdentifierTests {
    @Test func encodedIdsReachTheirResources() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let other = try await harness.app.projects.createProject(name: "nine", id: "p9")
        try await harness.withClient { api in
            let project = "/v1/projects/\(harness.projectId)"
            #expect(try await api.call(.post, project + "/bots", body: #"{"id":"wa:bot.1","name":"Bot"}"#).status == .ok)
            for path in ["/bots/wa%3Abot.1", "/bots/wa%3abot.1", "/bots/%77%61%3A%62%6F%74%2E%31"] {
                let read = try await api.call(.get, project + path)
                #expect(read.status == .ok, "\(path)")
                #expect(read.string("data", "id") == "wa:bot.1", "\(path)")
            }
            #expect(try await api.call(.patch, project + "/bots/wa%3Abot.1", body: #"{"channelWebhookUrl":null}"#).status == .ok)

            let put = try await api.call(.put, project + "/users/wa%3A5215550001", body: #"{"names":"Ana"}"#)
            #expect(put.status == .ok)
            #expect(put.string("data", "id") == "wa:5215550001")
            #expect(try await api.call(.get, project + "/users/wa:5215550001").string("data", "names") == "Ana")

            // `%39` is "9": the project `p9`, whose key is accepted; it has no integration yet.
            let encodedProject = try await api.call(.get, "/v1/external-support/p%39", key: .some(other.apiKey))
            #expect(encodedProject.errorKey == "INTEGRATION_NOT_FOUND")
            #expect(try await api.call(.get, "/v1/external-support/p%39", key: .some(harness.apiKey)).status == .unauthorized)
        }
    }

    @Test func encodedCharactersOutsideTheIdRuleAreRefused() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let segments = [
            "wa%2Fbot",  // "/" is not an id character
            "a%20b", "a%3Bb", "a%25", "a%252F",  // space, ";", "%" itself; decoded only once
            "a%2", "a%", "a%zz", "a%%41",  // malformed escapes
            "a%C3%28", "a%FF", "%C3",  // bytes that are not UTF-8
            "%00", "%F0%9F%98%80", "%C3%A9",  // NUL, an emoji, "é": valid UTF-8, not id characters
        ]
        try await harness.withClient { api in
            let bots = "/v1/projects/\(harness.projectId)/bots/"
            for segment in segments {
                let read = try await api.call(.get, bots + segment)
                #expect(read.status == .unprocessableContent, "\(segment)")
                #expect(read.invalidFields == ["botId"], "\(segment)")
                let patch = try await api.call(.patch, bots + segment, body: #"{"channelWebhookUrl":null}"#)
                #expect(patch.status == .badRequest, "\(segment)")
                #expect(patch.invalidFields == ["botId"], "\(segment)")
                let project = try await api.call(.get, "/v1/external-support/" + segment)
                #expect(project.status == .unprocessableContent, "\(segment)")
                #expect(project.invalidFields == ["projectId"], "\(segment)")
            }
        }
    }

    @Test func decodingIsStrict() {
        #expect(PathParameter.percentDecoded("wa%3Abot.1") == "wa:bot.1")
        #expect(PathParameter.percentDecoded("plain") == "plain")
        #expect(PathParameter.percentDecoded("%C3%A9") == "\u{e9}")
        for malformed in ["%", "%4", "%4g", "a%C3", "%ED%A0%80"] {  // the last a UTF-8-encoded surrogate
            #expect(PathParameter.percentDecoded(malformed) == nil, "\(malformed)")
        }
    }
}
