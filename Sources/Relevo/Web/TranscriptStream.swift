import Hummingbird
import NIOCore
import ServiceLifecycle

/// One visitor's live transcript as server-sent events.
///
/// The history is the record: the stream reads it, sends what the visitor has not seen, and
/// sleeps until the room changes (``TranscriptSignal``), a heartbeat is due, or the wait for an
/// agent needs a look. Each message's event id says where it stands (`<conversation>.<count>`),
/// so a reconnect with `Last-Event-ID` starts right after it: nothing lost, nothing twice.
///
/// Events: `conversation` (`{"id","state"}` when one starts and when it closes, with ids too),
/// `message` (`{"id","conversationId","direction","type","content","createdAt"}`), and without ids
/// `status` (`{"conversation": "active"|"none", "panel": "waiting"|"reached"|"unreachable"}`).
struct TranscriptStream: Sendable {
    /// Where a visitor is in the transcript: conversation number, messages of it seen, and whether
    /// its close was seen.
    struct Position: Sendable, Equatable {
        var sequence: Int64
        var count: Int
        var closed: Bool

        /// From an event id this stream sent (`12.3`, `12.end`); nil for anything else.
        init?(eventId: String) {
            let parts = eventId.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let sequence = Int64(parts[0]), sequence >= 0 else { return nil }
            self.sequence = sequence
            if parts[1] == "end" {
                (count, closed) = (Int.max, true)
            } else {
                guard let count = Int(parts[1]), count >= 0 else { return nil }
                (self.count, closed) = (count, false)
            }
        }
    }

    let webChats: WebChatService
    let transcripts: TranscriptSignal
    let visitor: WebChatService.Visitor
    let resume: Position?

    /// A comment line this often keeps proxies from closing a quiet stream.
    static let heartbeat = Duration.seconds(20)
    /// How often a conversation waiting for the panel is looked at again.
    static let panelCheck = Duration.seconds(1)
    /// The stream's first bytes: the browser's reconnect delay.
    static let opening = "retry: 2000\n\n"
    static let heartbeatLine = ": \n\n"

    /// The room whose changes wake this stream.
    var key: String { TranscriptSignal.key(projectId: visitor.chat.projectId, roomId: visitor.room.id) }

    /// When to look at the transcript again after a look.
    enum Next: Sendable, Equatable {
        /// When the room changes; heartbeats meanwhile.
        case change
        /// After ``panelCheck`` (or at the room's next change): a conversation is waiting for the panel.
        case panelCheck
        /// Never: the web chat was disabled or its origin removed, and the stream ends.
        case end
    }

    /// One look at the transcript: what the visitor has not seen yet, as events, and when to look
    /// again. Both ways of serving a stream run it: ``TranscriptStreamHandler`` on a connection's
    /// event loop, and ``run(_:)`` in a request's task.
    func look(_ state: inout State) async throws -> (text: String, next: Next) {
        // Disabled, or its origin removed, meanwhile: the stream ends (the widget's reconnect is refused).
        guard try await webChats.stillAdmits(visitor) else { return ("", .end) }
        var out = ""
        let waiting = try await catchUp(&state, into: &out)
        if let waiting {
            if try await webChats.panelReached(projectId: visitor.chat.projectId, conversationId: waiting.id) {
                state.reached = waiting.id
                state.panel = "reached"
            } else {
                let waited = Timestamp.now().millisecondsSince1970 - waiting.at.millisecondsSince1970
                state.panel = waited >= Int64(visitor.chat.agentTimeoutSeconds) * 1000 ? "unreachable" : "waiting"
            }
        }
        state.status(into: &out)
        return (out, waiting != nil && state.reached != waiting?.id ? .panelCheck : .change)
    }

    /// Serves the stream in the calling task until it ends, the task is cancelled or the server
    /// shuts down: the route's way, for a request that reaches the router.
    func run(_ writer: inout any ResponseBodyWriter) async throws {
        let wake = WakeUpSignal()
        let key = key
        transcripts.subscribe(ObjectIdentifier(wake), to: key) { wake.signal() }
        defer { transcripts.unsubscribe(ObjectIdentifier(wake), from: key) }
        var state = State(resume: resume)
        try await writer.write(ByteBuffer(string: Self.opening))
        try await withGracefulShutdownHandler {
            looking: while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let (text, next) = try await look(&state)
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                switch next {
                case .end: break looking
                case .panelCheck: await wake.wait(upTo: Self.panelCheck)
                case .change:
                    // Quiet until the room changes: only heartbeats, no reads.
                    while await !wake.wait(upTo: Self.heartbeat), !Task.isCancelled, !Task.isShuttingDownGracefully {
                        try await writer.write(ByteBuffer(string: Self.heartbeatLine))
                    }
                }
            }
        } onGracefulShutdown: {
            wake.signal()
        }
        try await writer.finish(nil)
    }

    /// What the stream has sent.
    struct State: Sendable {
        var sequence: Int64?
        var count = 0
        var closed = false
        var sentIds: Set<String> = []
        var skip = 0
        var conversation = "none"
        /// `none` without an active conversation; else whether its `conversation.start` reached the panel.
        var panel = "none"
        /// The active conversation the panel is known to have.
        var reached: String?
        var lastStatus = ""

        init(resume: Position?) {
            guard let resume else { return }
            (sequence, closed) = (resume.sequence, resume.closed)
            (count, skip) = resume.closed ? (0, Int.max) : (resume.count, resume.count)
        }

        mutating func status(into out: inout String) {
            let status = #"{"conversation":"\#(conversation)","panel":"\#(panel)"}"#
            guard status != lastStatus else { return }
            lastStatus = status
            out += "event: status\ndata: \(status)\n\n"
        }
    }

    /// Appends what is new since `state` to `out`; returns the active conversation whose panel has
    /// not answered yet (its id and start), if any.
    private func catchUp(_ state: inout State, into out: inout String) async throws -> (id: String, at: Timestamp)? {
        let from = state.sequence
        let conversations = try await webChats.transcript(visitor, from: from)
        var waiting: (id: String, at: Timestamp)?
        state.conversation = "none"
        for item in conversations {
            let conversation = item.conversation
            if item.sequence != state.sequence {
                // A conversation not seen yet (or the first of a fresh stream).
                (state.sequence, state.count, state.closed, state.sentIds, state.skip) = (item.sequence, 0, false, [], 0)
                out += event("conversation", id: "\(item.sequence).0", .members(["id": .string(conversation.id), "state": "active"]))
            }
            for (index, message) in item.messages.enumerated() where index >= state.skip && !state.sentIds.contains(message.id) {
                state.sentIds.insert(message.id)
                state.count += 1
                out += event("message", id: "\(item.sequence).\(state.count)", message.widgetJSON)
            }
            if conversation.state == .closed {
                if !state.closed {
                    state.closed = true
                    out += event("conversation", id: "\(item.sequence).end", .members(["id": .string(conversation.id), "state": "closed"]))
                }
            } else {
                state.conversation = "active"
                if item.messages.contains(where: { $0.direction == .agent }) { state.reached = conversation.id }
                if state.reached == conversation.id {
                    state.panel = "reached"
                } else {
                    waiting = (conversation.id, conversation.startAt)
                }
            }
        }
        if state.conversation == "none" { state.panel = "none" }
        return waiting
    }

    private func event(_ name: String, id: String, _ data: JSONValue) -> String {
        "id: \(id)\nevent: \(name)\ndata: \(CanonicalJSONWriter.string(data))\n\n"
    }
}

extension ConversationMessage {
    /// A message as the widget shows it.
    var widgetJSON: JSONValue {
        .members([
            "id": .string(id), "conversationId": .string(conversationId), "direction": .string(direction.rawValue),
            "type": .string(type), "content": content, "createdAt": .string(createdAt.iso8601),
        ])
    }
}
