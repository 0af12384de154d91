/// The web chat settings of bots (one row per bot that has a web chat).
package protocol WebChatStore: Sendable {
    func webChat(projectId: String, botId: String) async throws -> WebChat?
    /// Inserts or replaces the bot's web chat (its `createdAt` is kept on replace).
    func saveWebChat(_ chat: WebChat) async throws
    /// Removes the bot's web chat; false when it had none.
    func deleteWebChat(projectId: String, botId: String) async throws -> Bool
    /// Wakes the live transcripts of a room whose history changed, in every process serving this store.
    var transcripts: TranscriptSignal { get }
}
