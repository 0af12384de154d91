import Foundation

/// The OpenAPI 3.1 document served at `/openapi.yaml`, kept in the repo as
/// `Sources/Relevo/Resources/openapi.yaml` (a test checks it names every route the router has).
enum OpenAPIDocument {
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\ninfo: {title: Relevo, version: \(Release.version)}\npaths: {}\n" }
        return text
    }()
}
