import Foundation
import Testing

@testable import Relevo

@Suite("Restart persistence and secrets at rest")
struct PersistenceTests {
    @Test func integrationAndSecretSurviveARestartOnTheSameFile() async throws {
        let first = try await Harness.make()
        defer { first.removeFiles() }
        let box = SendableBox()
        try await first.withClient { api in
            let created = try await api.createIntegration()
            box.secret = created.string("data", "signingSecret")
            box.readBefore = try await api.call(.get, api.integrationPath).text
        }
        try await first.app.store.close()

        // A new process would do exactly this: open the same file and key file.
        let second = try await Harness.make(directory: first.directory)
        #expect(second.projectId != first.projectId)  // a second project: the seed only runs on an empty database
        try await second.withClient { api in
            let read = try await api.call(.get, "/v1/external-support/\(first.projectId)", key: .some(first.apiKey))
            #expect(read.status == .ok)
            #expect(read.text == box.readBefore)
        }
        #expect(try await second.app.integrations.signingSecrets(projectId: first.projectId) == [try #require(box.secret)])
    }

    @Test func secretsAndCredentialsAreNotStoredInPlaintext() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let box = SendableBox()
        try await harness.withClient { api in
            box.secret = try await api.createIntegration().string("data", "signingSecret")
        }
        try await harness.app.store.close()
        let secret = try #require(box.secret)
        var bytes = Data()
        for suffix in ["", "-wal"] {
            bytes += (try? Data(contentsOf: harness.directory.appendingPathComponent("relevo.sqlite" + suffix))) ?? Data()
        }
        #expect(bytes.count > 0)
        #expect(bytes.range(of: Data(secret.utf8)) == nil)
        #expect(bytes.range(of: Data("panel-token-123".utf8)) == nil)
        #expect(bytes.range(of: Data(harness.apiKey.utf8)) == nil)
        let keyFile = harness.directory.appendingPathComponent("relevo.key").path
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func anotherMasterKeyCannotOpenTheSecrets() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in try await api.createIntegration() }
        try await harness.app.store.close()
        let other = try await Harness.make(directory: harness.directory) {
            $0.masterKey = String(repeating: "ab", count: 32)
        }
        #expect(try await other.app.integrations.signingSecrets(projectId: harness.projectId) == [])
    }

    /// `serve` refuses a key that opens none of the stored secrets, instead of failing every delivery.
    @Test func serveRefusesAMasterKeyThatCannotOpenTheStoredSecrets() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in try await api.createIntegration() }
        try await harness.app.store.close()
        let arguments = ["--database", "sqlite://\(harness.directory.path)/relevo.sqlite"]
        let keyFile = harness.directory.appendingPathComponent("relevo.key")

        let wrongKey = try ServerProcess(
            arguments: arguments, directory: harness.directory,
            environment: ["RELEVO_MASTER_KEY": String(repeating: "ab", count: 32)])
        defer { wrongKey.stop() }
        let wrongStatus = await wrongKey.exitStatus(within: .seconds(20))
        #expect(wrongStatus != nil && wrongStatus != 0)
        #expect(wrongKey.errorOutput.contains("the master key does not open the secrets stored in this database"))

        // The database copied without its key file: refused, and no new (wrong) key file is left behind.
        let original = try Data(contentsOf: keyFile)
        try FileManager.default.removeItem(at: keyFile)
        let noKey = try ServerProcess(arguments: arguments, directory: harness.directory)
        defer { noKey.stop() }
        let noKeyStatus = await noKey.exitStatus(within: .seconds(20))
        #expect(noKeyStatus != nil && noKeyStatus != 0)
        #expect(noKey.errorOutput.contains("no key file was beside it"))
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))

        // With its own key back, it serves.
        try original.write(to: keyFile)
        let right = try ServerProcess(arguments: arguments, directory: harness.directory)
        defer { right.stop() }
        try await right.waitUntilListening()
        #expect(try await right.request("GET", "/health").0 == 200)
    }

    @Test func aDatabaseWithBotsButNoIntegrationRefusesAnotherMasterKey() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"sales","name":"Sales"}"#)
            #expect(created.status == .ok)
        }
        try await harness.app.store.close()
        let wrongKey = try ServerProcess(
            arguments: ["--database", "sqlite://\(harness.directory.path)/relevo.sqlite"], directory: harness.directory,
            environment: ["RELEVO_MASTER_KEY": String(repeating: "cd", count: 32)])
        defer { wrongKey.stop() }
        let status = await wrongKey.exitStatus(within: .seconds(20))
        #expect(status != nil && status != 0)
        #expect(wrongKey.errorOutput.contains("the master key does not open the secrets stored in this database"))
    }

    @Test func aWrongMasterKeyIsRefusedAtStart() async throws {
        await #expect(throws: MasterKeyError.wrongLength) {
            _ = try await Harness.make { $0.masterKey = "too-short" }
        }
    }
}

/// Carries values out of `@Sendable` test closures.
final class SendableBox: @unchecked Sendable {
    // Only written inside one awaited closure and read after it returns: no concurrent access.
    var secret: String?
    var readBefore: String?
}
