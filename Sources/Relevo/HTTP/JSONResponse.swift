import Hummingbird
import NIOCore

/// Responses whose bodies are written by ``CanonicalJSONWriter``, so the key order and byte form
/// are exactly the contract's.
public enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    static func make(status: HTTPResponse.Status, body: JSONValue) -> Response {
        let bytes = CanonicalJSONWriter.bytes(body)
        return Response(
            status: status,
            headers: [.contentType: contentType, .contentLength: String(bytes.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The success envelope (§1.3); `data` is omitted when nil.
    static func success(_ message: String, data: JSONValue? = nil) -> Response {
        make(status: .ok, body: .members([
            "message": .array([.string(message)]),
            "statusMessage": "success",
            "status": 1,
            "data": data,
        ]))
    }
}
