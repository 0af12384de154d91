import Foundation
import RelevoPanelKit
import Testing

/// Event bodies in the form of the API's §5.3, read into typed events.
@Suite struct PanelEventTests {
    static func messageBody(value: String) -> [UInt8] {
        Array(
            (#"{"field":"messages","object":"message_event","event_type":"message","timestamp":1776134278574,"#
                + #""project_id":"P","room_id":"R","contact":{"id":"U","name":"Ana"},"conversation":{"id":"C"},"#
                + #""bot":{"id":"B","name":"Bot"},"value":"# + value + "}").utf8)
    }

    func message(_ value: String) throws -> MessageEvent {
        guard case .message(let event) = try PanelEvent(json: Self.messageBody(value: value)) else {
            throw PanelEventError.notJSONObject
        }
        return event
    }

    @Test func aTextMessageHasEveryField() throws {
        let event = try message(#"{"id":"M","type":"text","content":{"body":"Hola <b>\"x\"</b> 🚚"}}"#)
        #expect(event.timestamp == Date(timeIntervalSince1970: 1_776_134_278.574))
        #expect(event.projectId == "P")
        #expect(event.roomId == "R")
        #expect(event.contact == Contact(id: "U", name: "Ana"))
        #expect(event.conversationId == "C")
        #expect(event.bot == Bot(id: "B", name: "Bot"))
        #expect(event.value == MessageValue(id: "M", content: .text(#"Hola <b>"x"</b> 🚚"#)))
    }

    @Test func everyMessageTypeIsTyped() throws {
        let cases: [(String, MessageContent)] = [
            (
                #"{"type":"image","content":{"url":"https://x.example/a.png","mime_type":"image/png","caption":"a"}}"#,
                .image(url: "https://x.example/a.png", mimeType: "image/png", caption: "a")
            ),
            (
                #"{"type":"image","content":{"url":"https://x.example/a.png","mime_type":"image/png"}}"#,
                .image(url: "https://x.example/a.png", mimeType: "image/png", caption: nil)
            ),
            (
                #"{"type":"video","content":{"url":"https://x.example/v.mp4","mime_type":"video/mp4","caption":"v"}}"#,
                .video(url: "https://x.example/v.mp4", mimeType: "video/mp4", caption: "v")
            ),
            (
                #"{"type":"audio","content":{"url":"https://x.example/a.ogg","mime_type":"audio/ogg"}}"#,
                .audio(url: "https://x.example/a.ogg", mimeType: "audio/ogg")
            ),
            (
                #"{"type":"document","content":{"url":"https://x.example/d.pdf","mime_type":"application/pdf","filename":"d.pdf"}}"#,
                .document(url: "https://x.example/d.pdf", mimeType: "application/pdf", filename: "d.pdf")
            ),
            (
                #"{"type":"location","content":{"lat":1.5,"lng":-2}}"#,
                .other(type: "location", content: .object(["lat": .number(1.5), "lng": .number(-2)]))
            ),
        ]
        for (value, content) in cases {
            let event = try message(#"{"id":"M","# + value.dropFirst())
            #expect(event.value.content == content)
            #expect(event.value.type == content.type)
        }
    }

    @Test func conversationStartCarriesAssignmentAndMetadata() throws {
        let body = Array(
            (#"{"event":"conversation.start","timestamp":1776134278000,"project_id":"P","room_id":"R","conversation":{"id":"C"},"#
                + #""contact":{"id":"U","name":"Ana"},"bot":{"id":"B","name":"Bot"},"initialMessage":"Te paso con un agente","#
                + #""assignment":{"type":"queue","target":"ventas"},"metadata":{"page":"/precios","tries":2,"vip":true,"tags":["a"]}}"#).utf8)
        guard case .conversationStart(let start) = try PanelEvent(json: body) else { Issue.record("not a start"); return }
        #expect(start.conversationId == "C")
        #expect(start.initialMessage == "Te paso con un agente")
        #expect(start.assignment == Assignment(type: "queue", target: "ventas"))
        #expect(start.metadata == ["page": "/precios", "tries": .number(2), "vip": .bool(true), "tags": .array(["a"])])
        #expect(try PanelEvent(json: body).conversationId == "C")

        let bare = Array(
            (#"{"event":"conversation.start","timestamp":1,"project_id":"P","room_id":"R","conversation":{"id":"C"},"#
                + #""contact":{"id":"U","name":"Ana"},"bot":{"id":"B","name":"Bot"},"initialMessage":null,"assignment":null,"metadata":{}}"#).utf8)
        guard case .conversationStart(let plain) = try PanelEvent(json: bare) else { Issue.record("not a start"); return }
        #expect(plain.initialMessage == nil && plain.assignment == nil && plain.metadata.isEmpty)
    }

    @Test func conversationCloseCarriesItsRedirect() throws {
        func close(_ redirect: String) throws -> ConversationCloseEvent? {
            let body = Array(
                (#"{"event":"conversation.close","timestamp":1,"project_id":"P","room_id":"R","conversation":{"id":"C"},"#
                    + #""contact":{"id":"U","name":"Ana"},"bot":{"id":"B","name":"Bot"},"reason":"closed_by_operator","redirectPayload":"#
                    + redirect + "}").utf8)
            guard case .conversationClose(let event) = try PanelEvent(json: body) else { return nil }
            return event
        }
        #expect(try close("null")?.redirect == nil)
        #expect(try close("null")?.reason == "closed_by_operator")
        #expect(try close(#"{"type":"text","text":"Gracias"}"#)?.redirect == .text("Gracias"))
        #expect(try close(#"{"type":"edge","edgeId":"menu"}"#)?.redirect == .edge("menu"))
        #expect(try close(#"{"type":"survey","id":"s1"}"#)?.redirect == .other(.object(["type": "survey", "id": "s1"])))
    }

    @Test func anUnknownEventTypeIsKeptWithItsBody() throws {
        let body = Array(#"{"event":"conversation.transfer","timestamp":1,"to":"team-b"}"#.utf8)
        #expect(try PanelEvent(json: body) == .unknown(type: "conversation.transfer", body: body))
        let other = Array(#"{"event_type":"typing","room_id":"R"}"#.utf8)
        #expect(try PanelEvent(json: other) == .unknown(type: "typing", body: other))
        #expect(try PanelEvent(json: Array("{}".utf8)) == .unknown(type: "", body: Array("{}".utf8)))
    }

    @Test func brokenBodiesNameWhatIsWrong() {
        #expect(throws: PanelEventError.notJSONObject) { try PanelEvent(json: Array("not json".utf8)) }
        #expect(throws: PanelEventError.notJSONObject) { try PanelEvent(json: Array("[1,2]".utf8)) }
        #expect(throws: PanelEventError.missingField("value.content.body")) {
            try PanelEvent(json: Self.messageBody(value: #"{"id":"M","type":"text","content":{}}"#))
        }
        #expect(throws: PanelEventError.wrongType("value.content.url")) {
            try PanelEvent(json: Self.messageBody(value: #"{"id":"M","type":"image","content":{"url":3,"mime_type":"image/png"}}"#))
        }
        #expect(throws: PanelEventError.missingField("value.id")) {
            try PanelEvent(json: Self.messageBody(value: #"{"type":"text","content":{"body":"x"}}"#))
        }
    }
}
