import ArgumentParser
import Logging
import Relevo

// Logs go to stderr so that stdout carries only what commands print for scripts (one JSON line).
LoggingSystem.bootstrap(LazyMetadataLogHandler.standardError)
await RelevoCommand.start()
