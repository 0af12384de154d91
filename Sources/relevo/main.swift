import ArgumentParser
import Logging

// Logs go to stderr so that stdout carries only what commands print for scripts (one JSON line).
LoggingSystem.bootstrap(StreamLogHandler.standardError)
await RelevoCommand.start()
