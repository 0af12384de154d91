import Hummingbird

/// Ids taken from the path, checked by the §9 rule before any lookup.
enum PathParameter {
    /// The parameter `name`, or a validation error naming it (400 on PATCH, as for E3; else 422).
    static func identifier(_ name: String, _ request: Request, _ context: some RequestContext) throws -> String {
        let value = context.parameters.get(name) ?? ""
        guard Identifier.isValid(value) else {
            var errors = ValidationErrors()
            errors.invalidIdentifier(name)
            throw request.method == .patch ? DomainError.badRequest(reason: "invalid \(name)", errors) : DomainError.validationFailed(errors)
        }
        return value
    }
}
