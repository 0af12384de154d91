import AsyncHTTPClient
import ServiceLifecycle

/// Owns the outbound HTTP client's lifetime: it is shut down after the dispatcher stops using it.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
