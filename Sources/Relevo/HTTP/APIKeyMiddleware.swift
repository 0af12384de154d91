import HTTPTypes
import Hummingbird

/// Authenticates project routes (§1.5) and applies the per-key rate limit (§9).
///
/// Under `{projectId}`, the path id is validated first (a malformed id is a validation error, 400
/// on PATCH per E3), then `x-api-key` must be an unrevoked key of exactly that project: every other
/// case is the same 401, so nothing is revealed about other projects. A route without `{projectId}`
/// (`GET /v1/projects/current`) is about the key's own project.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = RelevoRequestContext
    let projects: ProjectService
    let rateLimiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let pathProject = context.parameters.get("projectId") == nil ? nil : try PathParameter.identifier("projectId", request, context)
        let key = try await projects.authenticate(apiKey: request.headers.value(of: .apiKey), projectId: pathProject)
        if let wait = rateLimiter.acquire(key.hash) {
            throw RequestError.rateLimited(retryAfterSeconds: wait)
        }
        var context = context
        context.authenticatedProjectId = key.projectId
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let apiKey = HTTPField.Name("x-api-key")!
}
