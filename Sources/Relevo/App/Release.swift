/// This build of Relevo, sent as `User-Agent: Relevo/<version>` and served at `/version`.
package enum Release {
    package static let version = "0.1.0"
}
