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
            response = try envelope(for: error, request: request, context: context).response(from: request, context: context)
        }
        if let start {
            let elapsed = ContinuousClock.now - start
            context.logger.debug(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue),
                    "path": .string(String(request.uri.path.prefix(512))),
                    "status": .stringConvertible(response.status.code),
                    "duration_ms": .stringConvertible(
                        Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15),
                ])
        }
        return response
    }

    private func envelope(for error: any Error, request: Request, context: Context) -> ErrorEnvelope {
        switch error {
        case let envelope as ErrorEnvelope: return envelope
        case DomainError.invalidFields(let errors):
            // An update answers 400 for its fields, as E3 does; everything else 422.
            return ErrorEnvelope(request.method == .patch ? RequestError.badRequest(errors) : .validationFailed(errors))
        case let domain as DomainError:
            return ErrorEnvelope(domain)
        case let failure as RequestError:
            return ErrorEnvelope(failure)
        case let http as HTTPError where http.status == .notFound:
            return ErrorEnvelope(RequestError.routeNotFound(path: request.uri.path))
        case let http as HTTPError where http.status == .contentTooLarge:
            return ErrorEnvelope(RequestError.payloadTooLarge(limit: RequestBody.maximumBytes))
        case StoreError.unavailable:
            context.logger.warning("store unavailable", metadata: ["path": .string(String(request.uri.path.prefix(512)))])
            return ErrorEnvelope(RequestError.storeUnavailable)
        default:
            context.logger.error("unexpected error", metadata: ["error_type": .string(String(describing: type(of: error)))])
            return ErrorEnvelope(RequestError.internalError)
        }
    }
}
