/// The OpenAPI 3.1 document served at `/openapi.yaml`, kept in the repo as
/// `Sources/Relevo/Resources/openapi.yaml` and compiled into the binary (a test checks it names
/// every route the router has).
enum OpenAPIDocument {
    static let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
