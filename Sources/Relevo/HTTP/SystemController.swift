import Hummingbird
import NIOCore

/// Routes for operators and tooling: health, version, the OpenAPI document.
struct SystemController {
    let store: any RelevoStore
    let metrics: DeliveryMetrics
    let widget: WidgetController
    let openAPIDocument: ByteBuffer

    func register(in routes: inout RouteTable) {
        routes.open(.get, "health", health)
        routes.open(.get, "version", version)
        routes.open(.get, "openapi.yaml", openAPI)
        routes.open(.get, "metrics", prometheus)
    }

    /// Prometheus text exposition. No API key, like `/health`: bind to a private interface or put
    /// it behind the proxy's access rules (it carries counts, never payloads or secrets).
    @Sendable func prometheus(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        let bytes = await metrics.render(store: store, now: Timestamp.now(), webChatStreams: widget.openStreams)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// 200 once the store answers; 503 in the envelope otherwise, so a load balancer can act on it.
    @Sendable func health(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        do {
            try await store.ping()
        } catch {
            context.logger.error("health check: store does not answer")
            return JSONResponse.make(status: .serviceUnavailable, body: .members(["status": "unavailable", "store": "down"]))
        }
        return JSONResponse.make(status: .ok, body: .members(["status": "ok", "store": "up"]))
    }

    /// A constant answer that touches nothing: also the benchmark's baseline route.
    @Sendable func version(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        JSONResponse.make(status: .ok, body: .members(["name": "relevo", "version": .string(Release.version)]))
    }

    @Sendable func openAPI(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
            body: ResponseBody(byteBuffer: openAPIDocument))
    }
}
