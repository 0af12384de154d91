import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RelevoPanelKit

/// One request to Relevo and its answer read from the envelope: `data` on 2xx, ``RelevoAPIError`` otherwise.
struct Transport: Sendable {
    let baseURL: String
    let http: HTTPClient
    let timeout: TimeAmount

    init(baseURL: String, http: HTTPClient, timeout: Duration) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = http
        self.timeout = .milliseconds(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
    }

    func exchange<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: [UInt8]?, headers: [(String, String)])
        async throws -> Answer
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(contentsOf: headers)
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: timeout)
        let answer = Data(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            throw RelevoAPIError(status: Int(response.status.code), answer: answer, retryAfter: response.headers.first(name: "retry-after"))
        }
        return try Envelope<Answer>.decoder.decode(Envelope<Answer>.self, from: answer).data
    }

    /// An agent's reply: the body serialized once, signed, and those very bytes sent.
    func send(_ reply: AgentReply, secret: SigningSecret) async throws -> ReplyReceipt {
        let signed = reply.signed(with: secret)
        return try await exchange(.POST, "/v1/external-support/webhook", body: signed.body, headers: [("X-Jelou-Signature", signed.signature)])
    }

    /// `text` as one path segment (ids are `[A-Za-z0-9._:-]`, but nothing else may change the path).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._:-"))) ?? text
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-~"))) ?? text
    }
}
