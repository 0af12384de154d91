import Foundation
import HTTPTypes
import Testing

@testable import Relevo

@Suite("Routing, health and the OpenAPI document")
struct RoutingTests {
    @Test func unknownRoutesAre404AndWrongMethods405InTheEnvelope() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let missing = try await api.call(.get, "/v1/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.errorKey == "NOT_FOUND")
            #expect(missing.json["statusMessage"] == "failed")

            let wrong = try await api.call(.put, api.integrationPath, body: "{}")
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.errorKey == "METHOD_NOT_ALLOWED")
            #expect(wrong.headers[.allow] == "POST, GET, PATCH, DELETE, HEAD")

            let noKey = try await api.call(.get, api.integrationPath + "/secret/regenerate", key: .some(nil))
            #expect(noKey.status == .methodNotAllowed)
            #expect(noKey.headers[.allow] == "POST")
        }
    }

    @Test func healthVersionAndOpenAPIAnswerWithoutKey() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let health = try await api.call(.get, "/health", key: .some(nil))
            #expect(health.status == .ok)
            #expect(health.text == #"{"status":"ok","store":"up"}"#)
            let version = try await api.call(.get, "/version", key: .some(nil))
            #expect(version.text == #"{"name":"relevo","version":"\#(Release.version)"}"#)
            let document = try await api.call(.get, "/openapi.yaml", key: .some(nil))
            #expect(document.status == .ok)
            #expect(document.text.hasPrefix("openapi: 3.1"))
            // HEAD wherever GET is: the same status, no body.
            for path in ["/health", "/version", "/metrics", "/openapi.yaml"] {
                let head = try await api.call(.head, path, key: .some(nil))
                #expect(head.status == .ok, "\(path)")
                #expect(head.text.isEmpty, "\(path)")
            }
            #expect(try await api.call(.head, api.integrationPath).status == .notFound)  // as GET: no integration yet
        }
    }

    /// The document must describe every route and method the router serves, and nothing the router does not.
    @Test func openAPIDocumentListsEveryRoute() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        var documented: Set<String> = []
        var currentPath: String?
        for line in OpenAPIDocument.text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                currentPath = String(line.dropFirst(2).dropLast())
                    .replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
                documented.insert(currentPath! + " ANY")
            } else if !line.hasPrefix("  ") && !line.isEmpty {
                currentPath = nil
            }
        }
        let served = Set(harness.app.buildRoutes().table.paths.map { "/" + $0.path.trimmingPrefix("/") + " ANY" })
        #expect(documented == served)
    }
}

@Suite("Failures of the store")
struct StoreFailureTests {
    @Test func aStoreThatDoesNotAnswerIs500WithoutInternalsAndHealth503() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.app.store.close()
        try await harness.withClient { api in
            let reply = try await api.call(.get, api.integrationPath)
            #expect(reply.status == .internalServerError)
            #expect(reply.errorKey == "UNKNOWN_ERROR")
            #expect(reply.string("error", "code") == "E0000")
            for leak in ["SQL", "sqlite", "GRDB", "Database", "closed"] {
                #expect(!reply.text.contains(leak))
            }
            let health = try await api.call(.get, "/health", key: .some(nil))
            #expect(health.status == .serviceUnavailable)
        }
        #expect(harness.logs.all.contains { $0.contains("unexpected error") })
    }
}

@Suite("OpenAPI document validity")
struct OpenAPIValidityTests {
    /// Validated by an independent implementation (Python's openapi-spec-validator, on the build machines).
    @Test func theDocumentIsValidOpenAPI31() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Relevo/Resources/openapi.yaml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys, yaml; from openapi_spec_validator import validate; validate(yaml.safe_load(open(sys.argv[1])))",
            file.path,
        ]
        let status = try await offThread {  // not on a cooperative thread: Python takes a while to start
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(status == 0)
    }
}
