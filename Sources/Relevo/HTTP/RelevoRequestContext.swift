import Hummingbird
import Logging
import NIOCore

/// The request context of every route.
///
/// `authenticatedProjectId` is set by ``APIKeyMiddleware``; handlers of project routes receive a
/// ``ProjectRequestContext`` instead, which cannot exist without it.
package struct RelevoRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package var authenticatedProjectId: String?
    /// The peer's IP address (the web chat's per-address limits); nil over a Unix socket or in tests.
    package let remoteIP: String?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.authenticatedProjectId = nil
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are read by ``RequestBody`` with the contract's own limit and error.
    package var maxUploadSize: Int { RequestBody.maximumBytes }
}

/// The context of a route under `{projectId}`: only constructible once the API key was checked
/// against that project, so an unauthenticated request cannot reach such a handler.
package struct ProjectRequestContext: ChildRequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The project of the path, which the API key belongs to.
    package let projectId: String

    package init(context: RelevoRequestContext) throws {
        guard let projectId = context.authenticatedProjectId else { throw ErrorEnvelope(.unauthorized) }
        self.coreContext = context.coreContext
        self.projectId = projectId
    }

    package var maxUploadSize: Int { RequestBody.maximumBytes }
}
