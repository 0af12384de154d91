import Logging

/// swift-log's `StreamLogHandler` on standard error, with the logger's own metadata formatted only
/// when a line is written.
///
/// `StreamLogHandler` formats its metadata each time an entry is set, and Hummingbird sets a
/// request id on every request's logger: work on every request for lines that, at the default
/// level, are never written. The output is byte for byte the same.
package struct LazyMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    package var metadata: Logger.Metadata = [:]

    /// What `LoggingSystem.bootstrap` takes.
    package static func standardError(label: String) -> LazyMetadataLogHandler {
        LazyMetadataLogHandler(stream: StreamLogHandler.standardError(label: label))
    }

    package var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    package var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            // The line's own metadata wins over the logger's, as in StreamLogHandler.
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        stream.log(event: event)
    }
}
