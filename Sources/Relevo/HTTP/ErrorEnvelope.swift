import HTTPTypes
import Hummingbird

/// The contract's error envelope (§1.4), built from a ``DomainError`` or a ``RequestError``.
///
/// This is the only place that decides status codes, error keys and their wording. It conforms to
/// `HTTPResponseError` so Hummingbird renders it wherever it is thrown.
package struct ErrorEnvelope: Error, HTTPResponseError, Sendable {
    package let status: HTTPResponse.Status
    package let key: String
    package let code: String
    /// The one-sentence `message` entry.
    package let message: String
    package let description: String
    package let developerMessage: LocalizedText
    package let clientMessage: LocalizedText
    package let validation: ValidationErrors?
    package let headers: HTTPFields

    /// What a 503 asks the caller to wait: long enough for a disk to be freed or a database to
    /// restart, short enough that a channel's retry loses no visitor.
    static let storeRetryAfterSeconds = 5

    package init(_ error: DomainError) {
        if case .invalidFields(let errors) = error {
            self.init(RequestError.validationFailed(errors))
        } else {
            self.init(Self.catalogue(error), validation: nil, headers: [:])
        }
    }

    init(_ error: RequestError) {
        var headers = HTTPFields()
        let validation: ValidationErrors?
        switch error {
        case .validationFailed(let errors), .badRequest(let errors): validation = errors
        default: validation = nil
        }
        switch error {
        case .rateLimited(let seconds, _): headers[.retryAfter] = String(seconds)
        case .storeUnavailable: headers[.retryAfter] = String(Self.storeRetryAfterSeconds)
        case .methodNotAllowed(_, let allowed): headers[.allow] = allowed.joined(separator: ", ")
        default: break
        }
        self.init(Self.catalogue(error), validation: validation, headers: headers)
    }

    private init(_ entry: CatalogueEntry, validation: ValidationErrors?, headers: HTTPFields) {
        status = entry.status
        key = entry.key
        code = entry.code
        message = entry.message
        description = entry.description
        developerMessage = entry.developer
        clientMessage = entry.client
        self.validation = validation
        self.headers = headers
    }

    /// The envelope as JSON, keys in contract order.
    package var json: JSONValue {
        .members([
            "message": .array([.string(message)]),
            "statusMessage": "failed",
            "status": 0,
            "error": .members([
                "code": .string(code),
                "key": .string(key),
                "description": .string(description),
                "developerMessages": developerMessage.json,
                "clientMessages": clientMessage.json,
            ]),
            "validationError": validation.map { errors in
                .object(errors.fields.map { (key: $0.name, value: .array($0.messages.map(\.json))) })
            },
        ])
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status: status, body: json)
        response.headers.append(contentsOf: headers)
        return response
    }
}
