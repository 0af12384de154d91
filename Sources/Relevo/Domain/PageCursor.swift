/// A list's `nextCursor` (the event log's, the conversations'): the position of the last item of a
/// page, sealed for one project and one list under a key derived from the master key.
///
/// A bare position (a row's `seq`) would be a row number shared by every project: a client could
/// read from its gaps how many items other projects made meanwhile, and a made-up number would
/// page from anywhere. Sealed, a cursor tells nothing and only what this API returned for this
/// project and this list opens (anything else is 422, as the OpenAPI document says). URL-safe Base64
/// without padding, so it goes back in a query string unchanged.
struct PageCursor {
    /// The lists that page, each with cursors of its own.
    enum List {
        case events, conversations

        var purpose: String {
            switch self {
            case .events: "relevo event-log cursors"
            case .conversations: "relevo conversation-list cursors"
            }
        }

        func context(_ projectId: String) -> String {
            switch self {
            case .events: "event-cursor:" + projectId
            case .conversations: "conversation-cursor:" + projectId
            }
        }
    }

    private let secrets: SecretBox
    private let list: List

    init(secrets: SecretBox, list: List) {
        self.secrets = secrets.derived(for: list.purpose)
        self.list = list
    }

    func seal(_ position: Int64, projectId: String) -> String {
        secrets.seal(String(position), context: list.context(projectId)).urlSafeForm
    }

    /// The position, or nil for a cursor this API did not return for this project and list.
    func open(_ cursor: String, projectId: String) -> Int64? {
        guard let sealed = SealedSecret(urlSafeForm: cursor, maximumLength: 256) else { return nil }
        return secrets.open(sealed, context: list.context(projectId))
            .flatMap { Int64($0) }
            .flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The position of `cursor` (nil for none), or a problem named `cursor` in `problems`.
    func position(of cursor: String?, projectId: String, problems: inout ValidationErrors) -> Int64? {
        guard let cursor else { return nil }
        guard let position = open(cursor, projectId: projectId) else {
            problems.add(
                "cursor",
                LocalizedText(
                    en: "cursor is not one this API returned", es: "cursor no es uno devuelto por esta API",
                    pt: "cursor não é um devolvido por esta API"))
            return nil
        }
        return position
    }
}

/// What a list's page asks for besides its filters: a page size, and where the previous page ended.
package struct PageRequest: Sendable {
    package static let maximumSize = 200

    package var size = 50
    /// As returned by a previous page.
    package var cursor: String?

    package init(size: Int = 50, cursor: String? = nil) {
        self.size = size
        self.cursor = cursor
    }
}
