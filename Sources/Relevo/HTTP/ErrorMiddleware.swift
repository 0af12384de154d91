import Hummingbird
import Logging

/// Outermost middleware: turns every error into the contract's envelope and logs one line per request.
///
/// The access line (at `debug`, so `RELEVO_LOG_LEVEL=debug` shows it) carries method, path, status
/// and duration — never headers or bodies, which is where API keys, signatures and secrets travel.
/// Unexpected errors are logged at `error` by type only and answered as a generic 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = RelevoRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The clock is read only when the access line will be written.
        let start = context.logger.logLevel <= .debug ? ContinuousClock.now : nil
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try Self.envelope(for: error, method: request.method, path: request.uri.path, logger: context.logger)
                .response(from: request, context: context)
        }
        if let start { Self.logAccess(context.logger, request.method, request.uri.path, response.status, since: start) }
        return response
    }

    /// The access line of a request answered with `status`.
    static func logAccess(
        _ logger: Logger, _ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status, since start: ContinuousClock.Instant
    ) {
        let elapsed = ContinuousClock.now - start
        logger.debug(
            "request",
            metadata: [
                "method": .string(method.rawValue),
                "path": .string(String(path.prefix(512))),
                "status": .stringConvertible(status.code),
                "duration_ms": .stringConvertible(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15),
            ])
    }

    /// The envelope that answers `error` for a request of `method` on `path`.
    static func envelope(for error: any Error, method: HTTPRequest.Method, path: String, logger: Logger) -> ErrorEnvelope {
        switch error {
        case let envelope as ErrorEnvelope: return envelope
        case DomainError.invalidFields(let errors):
            // An update answers 400 for its fields, as E3 does; everything else 422.
            return ErrorEnvelope(method == .patch ? RequestError.badRequest(errors) : .validationFailed(errors))
        case let domain as DomainError:
            return ErrorEnvelope(domain)
        case let failure as RequestError:
            return ErrorEnvelope(failure)
        case let http as HTTPError where http.status == .notFound:
            return ErrorEnvelope(RequestError.routeNotFound(path: path))
        case let http as HTTPError where http.status == .contentTooLarge:
            return ErrorEnvelope(RequestError.payloadTooLarge(limit: RequestBody.maximumBytes))
        case StoreError.unavailable:
            logger.warning("store unavailable", metadata: ["path": .string(String(path.prefix(512)))])
            return ErrorEnvelope(RequestError.storeUnavailable)
        default:
            logger.error("unexpected error", metadata: ["error_type": .string(String(describing: type(of: error)))])
            return ErrorEnvelope(RequestError.internalError)
        }
    }
}
