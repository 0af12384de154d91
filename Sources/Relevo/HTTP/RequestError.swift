/// What is wrong with a request as HTTP carries it, or with the server answering it, as opposed to
/// a rule of the domain (``DomainError``). Thrown by the HTTP layer only; ``ErrorEnvelope`` words each.
enum RequestError: Error, Sendable, Equatable {
    /// Fields that cannot be accepted, on a create-style operation (422 `VALIDATOR_ERROR`).
    case validationFailed(ValidationErrors)
    /// Fields that cannot be accepted, on an update (`PATCH`, as E3 answers) (400 `BAD_REQUEST`).
    case badRequest(ValidationErrors)
    /// The body cannot be used at all: not JSON, not an object, cut short (400 `BAD_REQUEST`).
    case unreadableBody(BodyProblem)
    /// The body exceeds the limit (413 `PAYLOAD_TOO_LARGE`).
    case payloadTooLarge(limit: Int)
    /// A body that is not `application/json` (415).
    case unsupportedMediaType
    /// A body in a content coding Relevo does not decode, e.g. `Content-Encoding: gzip` (415).
    case unsupportedContentCoding(String)
    /// A transfer coding other than `chunked`, e.g. `Transfer-Encoding: gzip, chunked` (501
    /// `NOT_IMPLEMENTED`, as RFC 9112 §6.1 asks): read as plain chunked, its body would be garbage.
    case unsupportedTransferCoding(String)
    /// A budget is spent: the API key's, or a web chat visitor's or client address's (429 `RATE_LIMITED`).
    case rateLimited(retryAfterSeconds: Int, budget: RateBudget = .apiKey)
    /// No route has this path (404 `NOT_FOUND`).
    case routeNotFound(path: String)
    /// The path exists with other methods (405 `METHOD_NOT_ALLOWED`).
    case methodNotAllowed(method: String, allowed: [String])
    /// The store cannot take the request now (full disk, database down); the same request may be sent
    /// again (503 `SERVICE_UNAVAILABLE`, with `Retry-After`).
    case storeUnavailable
    /// Anything unexpected; logged with detail, shown without (500 `UNKNOWN_ERROR`).
    case internalError
}

/// Whose request budget a 429 is about.
enum RateBudget: Sendable, Equatable {
    case apiKey, webChat
}
