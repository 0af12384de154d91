import HTTPTypes
import Hummingbird
import NIOCore

/// The operator console: a page, a style sheet and a script, compiled into the binary, that call
/// the public API from the browser (no route of its own beyond these files).
///
/// Every answer carries a policy that lets the page load only these files and talk only to this
/// origin: no inline script, no `eval`, no frame around it, no referrer, no type sniffing. The
/// console renders every value it shows as text, and the policy is the second wall should it not.
struct ConsoleController {
    struct Asset {
        let contentType: String
        let body: ByteBuffer
    }

    let page = Asset(contentType: "text/html; charset=utf-8", body: ByteBuffer(bytes: PackageResources.index_html))
    let style = Asset(contentType: "text/css; charset=utf-8", body: ByteBuffer(bytes: PackageResources.console_css))
    let script = Asset(contentType: "text/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.console_js))

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func register(in routes: inout RouteTable) {
        routes.open(.get, "console", serve(page))
        routes.open(.get, "console/console.css", serve(style))
        routes.open(.get, "console/console.js", serve(script))
    }

    private func serve(_ asset: Asset) -> RouteTable.OpenHandler {
        { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: asset.contentType, .contentSecurityPolicy: Self.contentSecurityPolicy,
                    .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer", .cacheControl: "no-cache",
                ],
                body: ResponseBody(byteBuffer: asset.body))
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
