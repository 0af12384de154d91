import Foundation
import HTTPTypes
import Testing

@testable import Relevo

@Suite("E1 validation and §9 limits")
struct CreateValidationTests {
    /// Each body must be refused with 422 naming exactly these fields.
    static let invalidBodies: [(body: String, fields: [String])] = [
        (#"{}"#, ["webhookUrl"]),
        (#"{"webhookUrl":null}"#, ["webhookUrl"]),
        (#"{"webhookUrl":42}"#, ["webhookUrl"]),
        (#"{"webhookUrl":""}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"panel.example.com/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"http://93.184.215.14/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"ftp://93.184.215.14/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https:///hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://user:pw@93.184.215.14/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://93.184.215.14/hook#frag"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://93.184.215.14/a b"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://93.184.215.14:99999/"}"#, ["webhookUrl"]),
        ("{\"webhookUrl\":\"https://93.184.215.14/" + String(repeating: "a", count: 2030) + "\"}", ["webhookUrl"]),
        (#"{"webhookUrl":"https://127.0.0.1/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://localhost:8443/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://10.1.2.3/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://172.20.0.1/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://192.168.1.1/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://169.254.10.10/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://169.254.169.254/latest/meta-data"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://metadata.google.internal/x"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://100.64.0.1/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://224.0.0.1/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://0.0.0.0/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://[::1]/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://[fd00::1]/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://[fe80::1]/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://[::ffff:127.0.0.1]/hook"}"#, ["webhookUrl"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"oauth"}"#, ["authType"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"bearer"}"#, ["authorization"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"api_key","authorization":""}"#, ["authorization"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"bearer","authorization":"a\r\nX-Evil: 1"}"#, ["authorization"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"bearer","authorization":["t"]}"#, ["authorization"]),
        (#"{"webhookUrl":"https://93.184.215.14/x","authType":"basic","authorization":"no-colon-not-base64!"}"#, ["authorization"]),
        (
            "{\"webhookUrl\":\"https://93.184.215.14/x\",\"authType\":\"bearer\",\"authorization\":\"" + String(repeating: "t", count: 4097) + "\"}",
            ["authorization"]
        ),
        (#"{"webhookUrl":"http://10.0.0.1/x","authType":"basic"}"#, ["webhookUrl", "authorization"]),
    ]

    @Test func everyRuleIsA422NamingTheField() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            for (body, fields) in Self.invalidBodies {
                let reply = try await api.call(.post, api.integrationPath, body: body)
                #expect(reply.status == .unprocessableContent, "\(body.prefix(120))")
                #expect(reply.errorKey == "VALIDATOR_ERROR", "\(body.prefix(120))")
                #expect(reply.invalidFields == fields, "\(body.prefix(120))")
                if case .object(let members)? = reply.json["validationError"], let first = members.first,
                    case .array(let messages) = first.value, let message = messages.first
                {
                    #expect(message["en"] != nil && message["es"] != nil && message["pt"] != nil)
                } else {
                    Issue.record("validationError has no messages for \(body.prefix(80))")
                }
            }
            // Nothing was half-written by any of them.
            #expect(await api.statusOf(.get, api.integrationPath) == .notFound)
        }
    }

    @Test func acceptedCredentialForms() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            for body in [
                #"{"webhookUrl":"https://93.184.215.14:8443/x?y=1","authType":"basic","authorization":"user:pass"}"#,
                #"{"webhookUrl":"https://93.184.215.14/x","authType":"basic","authorization":"dXNlcjpwYXNz"}"#,
                #"{"webhookUrl":"https://[2606:2800:220:1:248:1893:25c8:1946]/x","authType":"api_key","authorization":"k"}"#,
                #"{"webhookUrl":"https://panel.invalid/x","unknownField":{"ignored":true}}"#,
            ] {
                let created = try await api.call(.post, api.integrationPath, body: body)
                #expect(created.status == .ok, "\(body) -> \(created.text)")
                try await api.call(.delete, api.integrationPath)
            }
        }
    }

    @Test func insecureFlagAcceptsLocalHTTP() async throws {
        let harness = try await Harness.make { $0.allowInsecureWebhooks = true }
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let reply = try await api.call(.post, api.integrationPath, body: #"{"webhookUrl":"http://127.0.0.1:9000/panel"}"#)
            #expect(reply.status == .ok)
        }
    }

    @Test func bodiesThatAreNotAJSONObjectAre400() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        try await harness.withClient { api in
            for body in [
                "", "not json", "[1,2]", "\"text\"", "{\"webhookUrl\":", #"{"a":1,"a":2}"#,
                "{\"x\":\(deep)}", "{\"x\":\"\\ud800\"}", "{\"x\":1e999}", "{} trailing",
            ] {
                let reply = try await api.call(.post, api.integrationPath, body: body)
                #expect(reply.status == .badRequest, "\(body.prefix(40))")
                #expect(reply.errorKey == "BAD_REQUEST", "\(body.prefix(40))")
            }
            let invalidUTF8 = try await api.client.execute(
                uri: api.integrationPath, method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("x-api-key")!: harness.apiKey],
                body: .init(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
            ) { $0.status }
            #expect(invalidUTF8 == .badRequest)
        }
    }

    /// A developer reading Spanish or Portuguese gets the whole message in that language; the parser's
    /// English account stays in `description` and the English message.
    @Test func unreadableBodiesAreExplainedInEachLanguage() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let malformed = try await api.call(.post, api.integrationPath, body: #"{"webhookUrl" 1}"#)
            #expect(malformed.string("error", "developerMessages", "es") == "El cuerpo de la solicitud no es JSON válido (byte 14)")
            #expect(malformed.string("error", "developerMessages", "pt") == "O corpo da requisição não é um JSON válido (byte 14)")
            #expect(malformed.string("error", "developerMessages", "en") == "the request body is not valid JSON: expected ':' at byte 14")
            #expect(malformed.string("error", "description") == "the request body is not valid JSON: expected ':' at byte 14")

            let array = try await api.call(.post, api.integrationPath, body: "[1,2]")
            #expect(array.string("error", "developerMessages", "es") == "El cuerpo de la solicitud debe ser un objeto JSON")
            #expect(array.string("error", "developerMessages", "pt") == "O corpo da requisição deve ser um objeto JSON")
            #expect(array.string("error", "description") == "the request body must be a JSON object, not array")
        }
    }

    @Test func oversizedBodiesAre413AndOtherMediaTypes415() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let big = "{\"webhookUrl\":\"https://93.184.215.14/x\",\"pad\":\"" + String(repeating: "x", count: 300 * 1024) + "\"}"
            let tooLarge = try await api.call(.post, api.integrationPath, body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorKey == "PAYLOAD_TOO_LARGE")
            let patchLarge = try await api.call(.patch, api.integrationPath, body: big)
            #expect(patchLarge.status == .contentTooLarge)

            let form = try await api.call(
                .post, api.integrationPath, body: "webhookUrl=https://x",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(form.status == .unsupportedMediaType)
            #expect(form.errorKey == "UNSUPPORTED_MEDIA_TYPE")
            let withCharset = try await api.call(
                .post, api.integrationPath, body: #"{"webhookUrl":"https://93.184.215.14/x"}"#,
                headers: [.contentType: "application/json; charset=utf-8"])
            #expect(withCharset.status == .ok)
        }
    }

    @Test func malformedProjectIdsAre422Or400OnPatch() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let long = String(repeating: "p", count: 129)
            for id in [long, "bad%20id", "semi;colon", "%F0%9F%98%80"] {
                let get = try await api.call(.get, "/v1/external-support/\(id)")
                #expect(get.status == .unprocessableContent, "\(id)")
                #expect(get.invalidFields == ["projectId"])
                let patch = try await api.call(.patch, "/v1/external-support/\(id)", body: "{}")
                #expect(patch.status == .badRequest, "\(id)")
                #expect(patch.invalidFields == ["projectId"])
            }
        }
    }
}
