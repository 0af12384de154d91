import Hummingbird
import NIOCore
import NIOHTTP1

/// Reads a request body under the contract's rules (§9): 501 for a transfer coding besides chunked,
/// 413 past 256 KiB before reading further, 415 for a body that is not JSON or is compressed, 400 for
/// anything that does not parse or is not an object.
enum RequestBody {
    static let maximumBytes = 256 * 1024

    /// The body as a JSON object; an empty body is a 400.
    static func jsonObject(_ request: Request) async throws -> JSONValue {
        guard let object = try await optionalJSONObject(request) else {
            throw RequestError.unreadableBody(.notAnObject(found: nil))
        }
        return object
    }

    /// The body as a JSON object, or nil when there is no body (E5's body is optional).
    static func optionalJSONObject(_ request: Request) async throws -> JSONValue? {
        guard let bytes = try await rawBytes(request) else { return nil }
        return try object(from: bytes)
    }

    /// Parses bytes that must hold one JSON object (400 otherwise).
    static func object(from bytes: [UInt8]) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RequestError.unreadableBody(.malformedJSON(error))
        }
        guard case .object = value else {
            throw RequestError.unreadableBody(.notAnObject(found: value.typeName))
        }
        return value
    }

    /// The raw bytes (nil when empty), after the coding, size and media-type checks.
    static func rawBytes(_ request: Request) async throws -> [UInt8]? {
        if let coding = request.headers.value(of: .transferEncoding), !isOnlyChunked(coding) {
            throw RequestError.unsupportedTransferCoding(coding)
        }
        if let declared = request.headers.value(of: .contentLength).flatMap(Int.init), declared > maximumBytes {
            throw RequestError.payloadTooLarge(limit: maximumBytes)
        }
        // Bodies are read as sent: a compressed one would only fail to parse, as a puzzling 400.
        if let coding = request.headers.value(of: .contentEncoding), codings(coding).contains(where: { $0 != "identity" }) {
            throw RequestError.unsupportedContentCoding(coding)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw RequestError.payloadTooLarge(limit: maximumBytes)
        } catch is NIOTooManyBytesError {
            // A body without a declared length (chunked) that runs past the limit.
            throw RequestError.payloadTooLarge(limit: maximumBytes)
        } catch is HTTPParserError {
            // Malformed framing, or a connection closed (or timed out idle) in the middle of the body:
            // the client's doing, not an unexpected error of the server's.
            throw RequestError.unreadableBody(.cutShort)
        }
        guard buffer.readableBytes > 0 else { return nil }
        // A missing Content-Type is read as JSON (decision: lenient for hand-written clients);
        // a declared type other than JSON is refused.
        if let type = request.headers.value(of: .contentType), type != "application/json" {
            let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard mediaType == "application/json" else { throw RequestError.unsupportedMediaType }
        }
        return Array(buffer.readableBytesView)
    }

    /// `chunked`, in any case, alone: the one transfer coding the HTTP parser decodes.
    private static func isOnlyChunked(_ header: String) -> Bool {
        codings(header) == ["chunked"]
    }

    /// The codings a header lists, lowercased; empty items (`, identity`, an empty header) name none.
    private static func codings(_ header: String) -> [String] {
        header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }
}
