import NIOCore
import NIOHTTP1

/// A webhook POST written straight into one buffer, head and body.
///
/// Not through NIO's request encoder, whose head storage, per-header validation and buffer of its
/// own serve requests of any shape; these never change shape (a few headers Relevo writes itself,
/// and the body). The bytes are written once, into a buffer of the exact size, and checked as they
/// go: a name must be a token and a value must not hold a control character other than tab (a CR
/// or LF would end the header early and let a credential add headers of its own).
enum RequestBytes {
    /// What NIO's response decoder is told about each request: it pairs every answer with a request
    /// head (a HEAD request's answer has no body); the bytes of the request go out as they are.
    static let postHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    static func post(_ url: WebhookURL, headers: [(String, String)], body: [UInt8]) throws(WebhookClientError) -> ByteBuffer {
        let length = String(body.count)
        var size = 32 + url.requestTarget.utf8.count + url.hostHeader.utf8.count + length.utf8.count + body.count
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var out = ByteBufferAllocator().buffer(capacity: size)
        out.writeStaticString("POST ")
        out.writeString(url.requestTarget)  // printable ASCII without spaces (WebhookURL)
        out.writeStaticString(" HTTP/1.1\r\nHost: ")
        out.writeString(url.hostHeader)
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else { throw .invalidRequestHeader }
            guard value.utf8.allSatisfy({ ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }) else { throw .invalidRequestHeader }
            out.writeString("\r\n")
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
        }
        out.writeStaticString("\r\nContent-Length: ")
        out.writeString(length)
        out.writeStaticString("\r\n\r\n")
        out.writeBytes(body)
        return out
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The outbound end of the pipeline: request heads (see ``postHead``) are dropped, body bytes are
    /// the request and go to the socket.
    final class Passthrough: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPClientRequestPart
        typealias OutboundOut = ByteBuffer

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .body(.byteBuffer(let bytes)): context.write(wrapOutboundOut(bytes), promise: promise)
            case .head, .end: promise?.succeed()
            case .body(.fileRegion): promise?.fail(ChannelError.operationUnsupported)
            }
        }
    }
}
