import Foundation
import RelevoPanelKit
import Testing

@Suite struct AgentReplyTests {
    @Test func theBodyIsTheContractsFormAndTheSignatureCoversItsBytes() throws {
        let reply = AgentReply(
            projectId: "P", roomId: "R", botId: "B", userId: "U",
            value: MessageValue(id: "a1", content: .text("Línea 1\n\"citada\" </script> 🚚")))
        let signed = reply.signed(with: SigningSecret("s3cret"))
        #expect(
            String(decoding: signed.body, as: UTF8.self)
                == #"{"field":"messages","object":"message_event","event_type":"incoming_message","project_id":"P","room_id":"R","#
                + #""bot_id":"B","user_id":"U","value":{"id":"a1","type":"text","content":{"body":"Línea 1\n\"citada\" </script> 🚚"}}}"#)
        #expect(throws: Never.self) { try WebhookVerifier(secrets: ["s3cret"]).verifyJelouSignature(signed.signature, body: signed.body) }
        // What a JSON parser reads back is the message that was meant.
        let parsed = try JSONSerialization.jsonObject(with: Data(signed.body)) as? [String: Any]
        let value = parsed?["value"] as? [String: Any]
        #expect((value?["content"] as? [String: Any])?["body"] as? String == "Línea 1\n\"citada\" </script> 🚚")
    }

    @Test func aReplyAnswersTheMessagesConversation() throws {
        let body = Array(
            (#"{"field":"messages","object":"message_event","event_type":"message","timestamp":1,"project_id":"P","room_id":"R","#
                + #""contact":{"id":"U","name":"Ana"},"conversation":{"id":"C"},"bot":{"id":"B","name":"Bot"},"#
                + #""value":{"id":"M","type":"text","content":{"body":"hola"}}}"#).utf8)
        guard case .message(let message) = try PanelEvent(json: body) else { Issue.record("not a message"); return }
        let reply = AgentReply(
            answering: message,
            value: MessageValue(id: "a2", content: .document(url: "https://x.example/f.pdf", mimeType: "application/pdf", filename: nil)))
        #expect((reply.projectId, reply.roomId, reply.botId, reply.userId) == ("P", "R", "B", "U"))
        #expect(
            String(decoding: reply.body, as: UTF8.self).hasSuffix(
                #""value":{"id":"a2","type":"document","content":{"mime_type":"application/pdf","url":"https://x.example/f.pdf"}}}"#))
    }
}
