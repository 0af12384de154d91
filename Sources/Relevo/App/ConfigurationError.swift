/// A setting the server cannot honour, named as the operator gave it (`--port` or `RELEVO_PORT`).
///
/// Refused before anything is opened, so a typo stops the start with one line instead of being
/// replaced by a default, wrapped into another value or crashing the process later.
package struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    package let description: String

    package init(_ description: String) { self.description = description }
}
