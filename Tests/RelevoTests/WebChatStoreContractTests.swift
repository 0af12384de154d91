import Testing

@testable import Relevo

/// The web chat rows of every backend (``StoreContractTests`` opens the stores).
@Suite("Web chat store contract")
struct WebChatStoreContractTests {
    @Test(arguments: StoreContractTests.Backend.allCases)
    func webChatsAreSavedReplacedAndRemoved(backend: StoreContractTests.Backend) async throws {
        try await StoreContractTests.withStore(backend) { store, _ in
            try await store.createProject(
                Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: StoreContractTests.key("p1", "k1"))
            #expect(try await store.webChat(projectId: "p1", botId: "b1") == nil)
            var chat = WebChat(
                projectId: "p1", botId: "b1", allowedOrigins: ["https://a.example", "http://localhost:8080"], start: .firstMessage,
                greeting: "Hola 👋 \"quoted\"", identitySecret: SealedSecret(storedForm: "v1.sealed"), agentTimeoutSeconds: 60,
                createdAt: .init(millisecondsSince1970: 10), updatedAt: .init(millisecondsSince1970: 10))
            try await store.saveWebChat(chat)
            #expect(try await store.webChat(projectId: "p1", botId: "b1") == chat)
            var changed = chat
            changed.allowedOrigins = ["https://b.example"]
            changed.start = .button
            changed.greeting = nil
            changed.identitySecret = nil
            changed.updatedAt = .init(millisecondsSince1970: 20)
            let replacement = WebChat(
                projectId: "p1", botId: "b1", allowedOrigins: changed.allowedOrigins, start: .button, greeting: nil, identitySecret: nil,
                agentTimeoutSeconds: 5, createdAt: .init(millisecondsSince1970: 99), updatedAt: .init(millisecondsSince1970: 20))
            try await store.saveWebChat(replacement)
            chat = try #require(try await store.webChat(projectId: "p1", botId: "b1"))
            #expect(chat.createdAt == .init(millisecondsSince1970: 10), "a replace keeps when it was created")
            #expect(chat.allowedOrigins == ["https://b.example"] && chat.start == .button && chat.greeting == nil && chat.identitySecret == nil)
            #expect(chat.agentTimeoutSeconds == 5)
            #expect(try await store.deleteWebChat(projectId: "p1", botId: "b1"))
            #expect(try await store.deleteWebChat(projectId: "p1", botId: "b1") == false)
            #expect(try await store.webChat(projectId: "p1", botId: "b1") == nil)
        }
    }

    @Test(arguments: StoreContractTests.Backend.allCases)
    func aRoomKeepsTheChannelItWasCreatedFor(backend: StoreContractTests.Backend) async throws {
        try await StoreContractTests.withStore(backend) { store, _ in
            try await store.createProject(
                Project(id: "p1", name: "one", createdAt: .init(millisecondsSince1970: 1)), firstKey: StoreContractTests.key("p1", "k1"))
            let time = Timestamp(millisecondsSince1970: 5)
            let web = try await store.ensureRoom(projectId: "p1", botId: "b", userId: "v", newId: "r1", viaWebChat: true, at: time)
            #expect(web.viaWebChat)
            let again = try await store.ensureRoom(projectId: "p1", botId: "b", userId: "v", newId: "r2", viaWebChat: false, at: time)
            #expect(again == web)
            let api = try await store.ensureRoom(projectId: "p1", botId: "b", userId: "u", newId: "r3", at: time)
            #expect(!api.viaWebChat)
            #expect(try await store.channelMessageContext(projectId: "p1", botId: "b", userId: "v").room?.viaWebChat == true)
        }
    }
}
