/// How domain values appear in the `data` member of responses, keys in contract order. Secrets
/// and credentials are never part of these views; a create shows its secret once, beside them.
extension IntegrationRecord {
    /// E1–E3: never the secret, never the credential.
    var publicJSON: JSONValue {
        .members([
            "id": .string(id),
            "brainId": .string(projectId),
            "webhookUrl": .string(webhookUrl),
            "authType": .string(authType.rawValue),
            "createdAt": .string(createdAt.iso8601),
            "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}

extension Bot {
    /// Never the channel secret.
    var publicJSON: JSONValue {
        .members([
            "id": .string(id), "name": .string(name),
            "channelWebhookUrl": channelWebhookUrl.map(JSONValue.string) ?? .null,
            "createdAt": .string(createdAt.iso8601), "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}

extension EndUser {
    var publicJSON: JSONValue {
        .members([
            "id": .string(id), "names": .string(names), "referenceId": referenceId.map(JSONValue.string) ?? .null,
            "createdAt": .string(createdAt.iso8601), "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}

extension ConversationView {
    /// E6–E8.
    var json: JSONValue {
        let c = conversation
        return .members([
            "_id": .string(c.id), "roomId": .string(c.roomId), "state": .string(c.state.rawValue),
            "startAt": .string(c.startAt.iso8601), "endAt": c.endAt.map { .string($0.iso8601) },
            "endedReason": c.endedReason.map(JSONValue.string),
            "assignment": c.assignment ?? .null, "metadata": c.metadata ?? .object([]),
            "User": .members([
                "id": .string(c.userId), "names": .string(user?.names ?? ""),
                "referenceId": user?.referenceId.map(JSONValue.string) ?? .null,
            ]),
            "Bot": .members(["id": .string(c.botId), "name": .string(bot?.name ?? "")]),
            "messages": messages.map { .array($0.map(\.json)) },
        ])
    }
}

extension ConversationMessage {
    /// One entry of E8's `messages`.
    var json: JSONValue {
        .members([
            "direction": .string(direction.rawValue), "id": .string(id), "type": .string(type),
            "content": content, "createdAt": .string(createdAt.iso8601),
        ])
    }
}

extension LoggedEvent {
    /// The event log's view (§8); `body` and attempts (with the headers each sent, by attempt number)
    /// only for a single event.
    func json(attempts: [DeliveryAttempt]? = nil, headers: [Int: [(String, String)]] = [:]) -> JSONValue {
        .members([
            "id": .string(event.id), "destination": .string(event.destination.kind),
            "botId": event.destination.botId.map(JSONValue.string),
            "eventType": .string(event.eventType), "status": .string(event.status.rawValue),
            "conversationId": event.conversationId.map(JSONValue.string) ?? .null,
            "attemptCount": .number(Double(event.attemptCount)),
            "nextAttemptAt": event.status == .pending ? .string(event.nextAttemptAt.iso8601) : nil,
            "createdAt": .string(event.createdAt.iso8601),
            "finishedAt": finishedAt.map { .string($0.iso8601) } ?? .null,
            "body": attempts == nil ? nil : ((try? JSONParser.parse(event.body)) ?? .null),
            "attempts": attempts.map { list in .array(list.map { $0.json(headers: headers[$0.number]) }) },
        ])
    }
}

extension DeliveryAttempt {
    /// One attempt; `requestHeaders` in the order they were sent, `null` when they cannot be shown.
    func json(headers: [(String, String)]?) -> JSONValue {
        .members([
            "number": .number(Double(number)), "startedAt": .string(startedAt.iso8601),
            "durationMs": .number(Double(durationMilliseconds)),
            "statusCode": statusCode.map { .number(Double($0)) } ?? .null,
            "errorClass": errorClass.map(JSONValue.string) ?? .null,
            "responseBody": responseBody.map(JSONValue.string) ?? .null,
            "requestHeaders": headers.map { list in .object(list.map { (key: $0.0, value: JSONValue.string($0.1)) }) } ?? .null,
        ])
    }
}

extension DeliverySummary {
    /// The overview's delivery health; times ISO-8601 or `null`.
    var json: JSONValue {
        .members([
            "queueDepth": .number(Double(queueDepth)),
            "oldestPendingAt": oldestPendingCreatedAt.map { .string($0.iso8601) } ?? .null,
            "lastHour": .members(["delivered": .number(Double(deliveredSince)), "failed": .number(Double(failedSince))]),
            "failedTotal": .number(Double(failedTotal)),
            "lastDeliveredAt": lastDeliveredAt.map { .string($0.iso8601) } ?? .null,
        ])
    }
}

extension Project {
    var json: JSONValue {
        .members(["projectId": .string(id), "name": .string(name), "createdAt": .string(createdAt.iso8601)])
    }
}
