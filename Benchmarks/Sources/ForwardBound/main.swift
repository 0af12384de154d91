// The bound of this stack on this machine: what target (a) of Benchmarks/delivery.sh could reach if
// Relevo did no work of its own at all.
//
// A server on the same HTTP stack as Relevo (Hummingbird, same HTTP/1.1 configuration) that answers
// every POST of a channel message only after forwarding its body to the panel with Relevo's own
// `WebhookClient`, with headers of the same names and sizes as a real delivery. No store, no
// durability, no JSON parsing, no signing, no queue, no retry: the two HTTP legs of an event and
// nothing else. Its ratio against the same ceiling is the most any design on this stack can reach
// here; what separates it from Relevo's is the cost of the work the contract asks for.
//
//     bash Benchmarks/bound.sh   (builds this, runs it beside Relevo's delivery benchmark)
//
// Args: --port N --panel URL. Prints the `projectId:` / `x-api-key:` banner lines delivery.mjs reads;
// every other request (the benchmark's setup calls) gets `{}`.
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

@testable import Relevo

@main
struct ForwardBound {
    static func main() async throws {
        let arguments = CommandLine.arguments
        func value(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[$0 + 1] : nil }
        }
        guard let port = value("--port").flatMap(Int.init), let panel = value("--panel") else {
            print("usage: relevo-forward-bound --port N --panel URL")
            exit(64)
        }
        let client = try WebhookClient(destinationGuard: DestinationGuard(allowInsecure: true))
        let sender = WebhookSender(client: client)
        let url = try WebhookURL.parse(panel, allowHTTP: true)
        // Same names and value sizes as a delivery's headers (signatures of the right length, not computed).
        let signature = "v1," + String(repeating: "A", count: 43) + "="
        let jelou = "sha256=" + String(repeating: "0", count: 64)
        let counter = Counter()

        let router = Router()
        router.post("/v1/projects/:project/channel/messages") { request, _ -> Response in
            let inbound = try await request.body.collect(upTo: 1 << 20)
            // A `message` event as the panel counts it: the channel message's fields under event_type.
            var body: [UInt8] = Array(#"{"event_type":"message","#.utf8)
            body.append(contentsOf: inbound.readableBytesView.dropFirst())
            let n = counter.next()
            let headers = [
                ("Content-Type", "application/json"),
                ("X-Jelou-Signature", jelou),
                ("webhook-id", "evt_" + String(n, radix: 16).leftPadded(to: 26)),
                ("webhook-timestamp", String(Int(Date().timeIntervalSince1970))),
                ("webhook-signature", signature),
                ("User-Agent", "Relevo/bound"),
            ]
            let sent = await sender.post(url: url, headers: headers, body: body)
            let status: HTTPResponse.Status = sent.statusCode.map { (200..<300).contains($0) } == true ? .ok : .badGateway
            return Response(
                status: status, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true,"id":"\#(n)"}"#)))
        }
        let setup: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        router.post("/v1/external-support/:project", use: setup)
        router.post("/v1/external-support/:project/conversations/start", use: setup)
        router.post("/v1/projects/:project/bots", use: setup)
        router.put("/v1/projects/:project/users/:user", use: setup)
        router.get("/health", use: setup)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "Relevo"),
            logger: Logger(label: "bound")
        )
        FileHandle.standardOutput.write(Data("projectId: bound\nx-api-key: bound\n".utf8))
        try await app.runService()
    }
}

/// A shared sequence number (the webhook-id of each forwarded body).
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1; return $0
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
