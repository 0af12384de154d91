import Foundation
import Hummingbird
import Logging
import RelevoPanelClient
import RelevoPanelKit

/// A panel endpoint on Hummingbird: `POST /events` receives Relevo's events.
///
/// Settings, from the environment: `RELEVO_URL` (where to send replies), `SIGNING_SECRETS` (the
/// integration's signing secret; during a rotation the new one, a comma, the old one), `PANEL_TOKEN`
/// (the bearer credential the integration presents; unset for `no_auth`) and `PORT`.
@main
struct SwiftPanel {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let secrets = (environment["SIGNING_SECRETS"] ?? "").split(separator: ",").map { SigningSecret(String($0)) }
        guard let relevo = environment["RELEVO_URL"], let newest = secrets.first else {
            print("set RELEVO_URL and SIGNING_SECRETS")
            exit(2)
        }
        var logger = Logger(label: "swift-panel")
        logger.logLevel = .info
        let panel = EventHandler(
            verifier: WebhookVerifier(secrets: secrets), replies: ReplySender(baseURL: relevo, secret: newest),
            token: environment["PANEL_TOKEN"], logger: logger)

        let router = Router()
        router.post("/events") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(status: await panel.handle(headers: request.headers, body: Array(body.readableBytesView)))
        }
        let port = Int(environment["PORT"] ?? "") ?? 8090
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
