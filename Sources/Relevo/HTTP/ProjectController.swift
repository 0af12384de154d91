import Hummingbird

/// The project an API key belongs to: how a client holding only a key (the console) learns its project.
struct ProjectController {
    let projects: ProjectService

    func register(in routes: inout RouteTable) {
        routes.project(.get, "projects/current", current)
    }

    @Sendable func current(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        JSONResponse.success("Project retrieved successfully", data: try await projects.project(id: context.projectId).json)
    }
}
