import Foundation
import Hummingbird
import Logging
import NIOCore
import Relevo
import ServiceLifecycle
import Synchronization

/// A real HTTP server standing in for a panel or a channel: records every request it receives
/// (headers and exact body bytes) and answers with a status the test chooses.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        let path: String
        let headers: [String: String]
        let body: [UInt8]
        let status: Int
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    private let received = Mutex<[Received]>([])
    private let arrived = Mutex(0)
    /// Answers for the next requests, in order; when empty, `defaultStatus`.
    private let script = Mutex<[Int]>([])
    private let fallback = Mutex(200)
    /// The body of every answer; nil: `{"ok":true}` or `{"ok":false}`.
    private let answerBody = Mutex<[UInt8]?>(nil)
    private let delay = Mutex(Duration.zero)
    /// While `held`, requests that arrive wait (unanswered) until ``release()``.
    private let gate = Mutex<(held: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    /// Runs the server; stopped by a graceful shutdown, never by cancelling its task: a cancelled
    /// Hummingbird server drops a connection accepted but not yet served, and NIO traps on it
    /// ("Deinited NIOAsyncWriter without calling finish()", swift-nio#2637), taking the whole test
    /// process down.
    private let services = Mutex<ServiceGroup?>(nil)
    private let boundPort = Mutex(0)

    var port: Int { boundPort.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port)/hook" }
    /// Requests answered so far (a request is recorded with its answer).
    var requests: [Received] { received.withLock { $0 } }
    /// Requests that arrived, answered or not (a hanging panel's are not answered yet).
    var arrivals: Int { arrived.withLock { $0 } }
    /// Requests answered with 2xx, in arrival order.
    var accepted: [Received] { requests.filter { (200..<300).contains($0.status) } }

    func answer(next statuses: [Int]) { script.withLock { $0 = statuses } }
    func answer(always status: Int) { fallback.withLock { $0 = status } }
    func answer(body: [UInt8]) { answerBody.withLock { $0 = body } }
    /// Answers only after `pause`: a panel that hangs.
    func answer(after pause: Duration) { delay.withLock { $0 = pause } }
    /// Requests that arrive from now on wait, unanswered (they count in `arrivals`), until ``release()``:
    /// an attempt known to be in flight, for as long as the test needs, with no clock involved.
    func hold() { gate.withLock { $0.held = true } }
    /// Lets the held requests go on (each answered as `answer` says at that moment) and stops holding.
    func release() {
        let waiting = gate.withLock { gate in
            gate.held = false
            defer { gate.waiting = [] }
            return gate.waiting
        }
        for request in waiting { request.resume() }
    }

    /// Starts listening on a free loopback port.
    func start() async throws {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            await withCheckedContinuation { (request: CheckedContinuation<Void, Never>) in
                let held = self.gate.withLock { gate in
                    if gate.held { gate.waiting.append(request) }
                    return gate.held
                }
                // Counted once waiting, so a test that sees the arrival knows the request is held.
                self.arrived.withLock { $0 += 1 }
                if !held { request.resume() }
            }
            let pause = self.delay.withLock { $0 }
            if pause > .zero { try? await Task.sleep(for: pause) }
            let status = self.script.withLock { $0.isEmpty ? nil : $0.removeFirst() } ?? self.fallback.withLock { $0 }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            self.received.withLock {
                $0.append(Received(path: request.uri.path, headers: headers, body: Array(buffer.readableBytesView), status: status))
            }
            let body = self.answerBody.withLock { $0 } ?? Array("{\"ok\":\(status < 300)}".utf8)
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in readyContinuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        services.withLock { $0 = group }
        Task { try await group.run() }
        for await port in ready {
            boundPort.withLock { $0 = port }
            break
        }
    }

    func stop() {
        release()
        guard let group = services.withLock({ $0 }) else { return }
        Task { await group.triggerGracefulShutdown() }
    }

    /// Waits until `count` requests arrived (answered or held), or the time runs out.
    @discardableResult
    func waitForArrivals(_ count: Int, timeout: Duration = .seconds(30)) async -> Int {
        await waitUntil(timeout) { arrivals >= count }
        return arrivals
    }

    /// Waits until `count` requests were answered, or the time runs out.
    @discardableResult
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(30)) async -> [Received] {
        await waitUntil(timeout) { requests.count >= count }
        return requests
    }

    /// Waits until `count` requests were accepted (2xx), or the time runs out.
    @discardableResult
    func waitForAccepted(_ count: Int, timeout: Duration = .seconds(30)) async -> [Received] {
        await waitUntil(timeout) { accepted.count >= count }
        return accepted
    }

    private func waitUntil(_ timeout: Duration, _ done: () -> Bool) async {
        let deadline = ContinuousClock.now + timeout
        while !done() && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
