import Hummingbird

/// Registers routes under every API prefix and answers 405 for known paths with other methods.
///
/// Hummingbird answers an unknown method like an unknown path (404); the contract wants 405
/// `METHOD_NOT_ALLOWED` with an `Allow` header, so every path's other methods get a responder
/// that throws it. Those responders sit outside authentication: a wrong method is 405 with or
/// without a key.
struct RouteTable {
    /// `/v1` and the two gateway base paths of Jelou's docs (§1.1).
    static let prefixes = ["v1", "platform/v1", "jelouapi/v1"]
    static let knownMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    typealias ProjectHandler = @Sendable (Request, ProjectRequestContext) async throws -> Response
    typealias OpenHandler = @Sendable (Request, RelevoRequestContext) async throws -> Response

    let router: Router<RelevoRequestContext>
    let authenticated: RouterGroup<ProjectRequestContext>
    private var allowed: [(path: String, methods: [HTTPRequest.Method])] = []

    init(router: Router<RelevoRequestContext>, apiKeys: APIKeyMiddleware) {
        self.router = router
        self.authenticated = router.group().add(middleware: apiKeys).group(context: ProjectRequestContext.self)
    }

    /// A project route (path relative to the prefix, with `:projectId`), reachable under every prefix.
    mutating func project(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping ProjectHandler) {
        for prefix in Self.prefixes {
            let full = "\(prefix)/\(path)"
            authenticated.on(RouterPath(full), method: method, use: handler)
            record(full, method)
        }
    }

    /// A route without API key (health, documents, the signed panel webhook), at `path` exactly.
    mutating func open(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping OpenHandler) {
        router.on(RouterPath(path), method: method, use: handler)
        record(path, method)
    }

    private mutating func record(_ path: String, _ method: HTTPRequest.Method) {
        if let index = allowed.firstIndex(where: { $0.path == path }) {
            allowed[index].methods.append(method)
        } else {
            allowed.append((path: path, methods: [method]))
        }
    }

    /// Every path served, with its methods, in registration order (the OpenAPI test compares them).
    var paths: [(path: String, methods: [HTTPRequest.Method])] { allowed }

    /// Registers the 405 responders; call once, after every route.
    func finish() {
        for entry in allowed {
            // HEAD wherever GET is (as HTTP asks, and probes use it): Hummingbird answers it with the
            // GET handler's head.
            let methods = entry.methods.contains(.get) ? entry.methods + [.head] : entry.methods
            let allow = methods.map(\.rawValue)
            for method in Self.knownMethods where !methods.contains(method) {
                router.on(RouterPath(entry.path), method: method) { request, _ -> Response in
                    throw RequestError.methodNotAllowed(method: request.method.rawValue, allowed: allow)
                }
            }
        }
    }
}
