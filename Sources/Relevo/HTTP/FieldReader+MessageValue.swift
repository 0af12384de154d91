extension FieldReader {
    /// A message value (§4) under `key`: `{"id", "type", "content"}` with content shaped by the
    /// type, every problem reported under `key.id`, `key.type` or `key.content.*`.
    func messageValue(_ key: String = "value") -> MessageValue? {
        guard value(key) != nil else { required(key); return nil }
        guard let message = object(key) else { return nil }
        let id = message.identifier("id")
        guard case .string(let typeText)? = message.body["type"], let kind = MessageValue.Kind(rawValue: typeText) else {
            let type = message.name("type")
            message.add(
                "type",
                LocalizedText(
                    en: "\(type) must be one of text, image, video, audio, document",
                    es: "\(type) debe ser uno de text, image, video, audio, document",
                    pt: "\(type) deve ser um de text, image, video, audio, document"))
            return nil
        }
        guard message.body["content"]?.isObject == true, let content = message.object("content") else {
            message.wrongType("content", expected: "object")
            return nil
        }
        let before = problems.fields.count
        let read = content.messageContent(kind)
        guard let id, problems.fields.count == before else { return nil }
        return MessageValue(id: id, kind: kind, content: read)
    }

    /// The content object of a message of `kind`: only its known fields, in contract order.
    private func messageContent(_ kind: MessageValue.Kind) -> JSONValue {
        func string(_ key: String, required: Bool, maximum: Int) -> String? {
            required ? requiredString(key, maximum: maximum) : self.string(key, maximum: maximum)
        }
        if kind == .text {
            let text = string("body", required: true, maximum: MessageValue.maximumTextLength)
            return .members(["body": text.map(JSONValue.string)])
        }
        let url = string("url", required: true, maximum: MessageValue.maximumURLLength)
        if let url, !url.isEmpty, (try? WebhookURL.parse(url, allowHTTP: false)) == nil {
            let field = name("url")
            add(
                "url",
                LocalizedText(
                    en: "\(field) must be an absolute https URL", es: "\(field) debe ser una URL https absoluta",
                    pt: "\(field) deve ser uma URL https absoluta"))
        }
        let mimeType = string("mime_type", required: true, maximum: 255)
        if let mimeType, !mimeType.isEmpty {
            let prefix: String? =
                switch kind {
                case .image: "image/";
                case .video: "video/";
                case .audio: "audio/";
                default: nil
                }
            let shaped = mimeType.split(separator: "/").count == 2 && !mimeType.contains(" ")
            if !shaped || (prefix.map { !mimeType.lowercased().hasPrefix($0) } ?? false) {
                let field = name("mime_type")
                add(
                    "mime_type",
                    LocalizedText(
                        en: "\(field) must be a \(prefix ?? "type/subtype ")* media type",
                        es: "\(field) debe ser un tipo de medio \(prefix ?? "tipo/subtipo ")*",
                        pt: "\(field) deve ser um tipo de mídia \(prefix ?? "tipo/subtipo ")*"))
            }
        }
        let caption = (kind == .image || kind == .video) ? string("caption", required: false, maximum: MessageValue.maximumTextLength) : nil
        let filename = kind == .document ? string("filename", required: false, maximum: 255) : nil
        return .members([
            "url": url.map(JSONValue.string), "mime_type": mimeType.map(JSONValue.string),
            "caption": caption.map(JSONValue.string), "filename": filename.map(JSONValue.string),
        ])
    }
}
