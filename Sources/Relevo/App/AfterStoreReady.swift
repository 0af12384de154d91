import ServiceLifecycle

/// Runs a service once the store is ready, so that on a fresh PostgreSQL database the dispatcher
/// and retention never query tables the migrations have not created yet.
struct AfterStoreReady: Service {
    let store: any RelevoStore
    let service: any Service

    func run() async throws {
        try await store.ready()
        try await service.run()
    }
}
