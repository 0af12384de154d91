import Hummingbird
import NIOCore

/// Responses whose bodies are written by ``CanonicalJSONWriter``, so the key order and byte form
/// are exactly the contract's.
package enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    /// `Content-Length` is added by Hummingbird from the body.
    static func make(status: HTTPResponse.Status, body: JSONValue) -> Response {
        bytes(status: status, CanonicalJSONWriter.bytes(body))
    }

    /// The success envelope (§1.3); `data` is omitted when nil. The envelope's fixed members are
    /// written as one literal so only `data` goes through the tree writer.
    static func success(_ message: String, data: JSONValue? = nil) -> Response {
        success(message, writeData: data.map { data in { CanonicalJSONWriter.write(data, into: &$0) } })
    }

    /// The success envelope around `data` already in canonical form (an answer recorded for repeats):
    /// copied as it is, neither parsed nor written again.
    static func success(_ message: String, canonicalData data: String) -> Response {
        success(message) { $0.append(contentsOf: data.utf8) }
    }

    private static func success(_ message: String, writeData: ((inout [UInt8]) -> Void)?) -> Response {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        out.append(contentsOf: #"{"message":["#.utf8)
        CanonicalJSONWriter.writeString(message, into: &out)
        out.append(contentsOf: #"],"statusMessage":"success","status":1"#.utf8)
        if let writeData {
            out.append(contentsOf: #","data":"#.utf8)
            writeData(&out)
        }
        out.append(UInt8(ascii: "}"))
        return bytes(status: .ok, out)
    }

    private static func bytes(status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
