/// The event log's `nextCursor`: the position of the last event of a page, sealed for one project
/// under a key derived from the master key.
///
/// A bare position (the event's `seq`) would be a row number shared by every project: a client could
/// read from its gaps how many events other projects made meanwhile, and a made-up number would
/// page from anywhere. Sealed, a cursor tells nothing and only what this API returned for this
/// project opens (anything else is 422, as the OpenAPI document says). URL-safe Base64 without
/// padding, so it goes back in a query string unchanged.
struct EventCursor {
    private let secrets: SecretBox

    init(secrets: SecretBox) {
        self.secrets = secrets.derived(for: "relevo event-log cursors")
    }

    private static func context(_ projectId: String) -> String { "event-cursor:" + projectId }

    func seal(_ position: Int64, projectId: String) -> String {
        let sealed = secrets.seal(String(position), context: Self.context(projectId)).storedForm
        return String(sealed.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.filter { $0 != "=" })
    }

    /// The position, or nil for a cursor this API did not return for this project.
    func open(_ cursor: String, projectId: String) -> Int64? {
        guard cursor.utf8.count <= 256, cursor.hasPrefix("v1."),
            cursor.allSatisfy({ $0.isASCII && $0 != "+" && $0 != "/" && $0 != "=" })
        else { return nil }
        var standard = String(cursor.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        standard += String(repeating: "=", count: (4 - (standard.utf8.count - 3) % 4) % 4)  // Base64 after `v1.`
        return secrets.open(SealedSecret(storedForm: standard), context: Self.context(projectId))
            .flatMap { Int64($0) }
            .flatMap { $0 >= 0 ? $0 : nil }
    }
}
