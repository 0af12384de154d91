import Hummingbird

/// Ids taken from the path, checked by the §9 rule before any lookup.
enum PathParameter {
    /// The parameter `name`, percent-decoded, or a validation error naming it (400 on PATCH, as for
    /// E3; else 422: see ``ErrorMiddleware``).
    ///
    /// Decoded because clients encode path segments (`encodeURIComponent`, `urllib.parse.quote`):
    /// `wa%3Abot.1` is the id `wa:bot.1`. Decoded once and strictly — a malformed escape or bytes
    /// that are not UTF-8 are refused like any other malformed id — and the decoded id must then
    /// pass the same rule, so an encoded `/`, space or `%` is still refused.
    static func identifier(_ name: String, _ request: Request, _ context: some RequestContext) throws -> String {
        try identifier(name, segment: context.parameters.get(name))
    }

    /// The id in the path segment `segment` (as sent), checked as above.
    static func identifier(_ name: String, segment: String?) throws -> String {
        guard let value = segment.flatMap(percentDecoded), Identifier.isValid(value) else {
            var errors = ValidationErrors()
            errors.invalidIdentifier(name)
            throw DomainError.invalidFields(errors)
        }
        return value
    }

    /// `segment` with every `%XX` replaced by its byte; nil when a `%` is not followed by two hex
    /// digits or the result is not valid UTF-8.
    static func percentDecoded(_ segment: String) -> String? {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return segment }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count)
        var iterator = segment.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(Hex.nibble), let low = iterator.next().flatMap(Hex.nibble) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
