import HTTPTypes
import Hummingbird

/// Authenticates routes under `{projectId}` (§1.5) and applies the per-key rate limit (§9).
///
/// The path id is validated first (a malformed id is a validation error, 400 on PATCH per E3),
/// then `x-api-key` must be an unrevoked key of exactly that project: every other case is the
/// same 401, so nothing is revealed about other projects.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = RelevoRequestContext
    let projects: ProjectService
    let rateLimiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let projectId = try PathParameter.identifier("projectId", request, context)
        let keyHash = try await projects.authenticate(apiKey: request.headers.value(of: .apiKey), projectId: projectId)
        if let wait = rateLimiter.acquire(keyHash) {
            throw RequestError.rateLimited(retryAfterSeconds: wait)
        }
        var context = context
        context.authenticatedProjectId = projectId
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let apiKey = HTTPField.Name("x-api-key")!
}
