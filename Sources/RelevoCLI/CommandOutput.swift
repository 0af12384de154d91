import ArgumentParser
import Foundation
import Relevo

/// One-JSON-line output for scripts, and readable failures instead of stack traces.
enum CommandOutput {
    static func line(_ value: JSONValue) {
        try? FileHandle.standardOutput.write(contentsOf: Data((CanonicalJSONWriter.string(value) + "\n").utf8))
    }

    /// Runs `body`, turning domain and store errors into a message on stderr and exit code 1 (thrown,
    /// so that the store is closed on the way out).
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DomainError {
            // What is wrong with each field, rather than only which fields are wrong.
            let envelope = ErrorEnvelope(error)
            let reasons = envelope.validation?.fields.flatMap { $0.messages.map(\.en) } ?? []
            throw failure(reasons.isEmpty ? envelope.description : reasons.joined(separator: "; "))
        } catch StoreError.conflict {
            throw failure("a project with this id already exists")
        } catch StoreError.notFound {
            throw failure("no such project")
        }
    }

    /// Writes `error: message` on stderr; throw what it returns to exit with code 1.
    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode.failure
    }
}
