import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The address rule of E1 (§2), applied when an integration is saved and again before every
/// delivery attempt (§5.1), so that a host which later starts resolving to a private address is
/// never called (DNS rebinding).
package struct DestinationGuard: Sendable {
    /// The development flag: `http` and local addresses are allowed, for panels on the same machine.
    package let allowInsecure: Bool
    /// Asks DNS: when an integration is saved.
    private let lookup: @Sendable (String) async -> [IPAddress]
    /// Recent answers, for the re-check before each attempt.
    private let recent: RecentResolutions

    package init(allowInsecure: Bool) {
        self.init(allowInsecure: allowInsecure, lookup: Self.resolve)
    }

    init(allowInsecure: Bool, lookup: @escaping @Sendable (String) async -> [IPAddress], answersKeptFor lifetime: Duration = .seconds(1)) {
        self.allowInsecure = allowInsecure
        self.lookup = lookup
        recent = RecentResolutions(lifetime: lifetime, lookup: lookup)
    }

    /// Host names refused without asking DNS: they name this machine or a cloud metadata service.
    static let blockedHostNames: Set<String> = [
        "localhost", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal",
    ]

    /// Syntax, then address checks. A host that does not resolve at all is accepted here (DNS may be
    /// briefly down, or the panel not deployed yet); delivery re-checks and records `dns`.
    package func validate(_ text: String) async throws(WebhookURL.Problem) -> WebhookURL {
        let url = try WebhookURL.parse(text, allowHTTP: allowInsecure)
        try await check(url, resolving: lookup)
        return url
    }

    /// Refuses the URL when its host is, or resolves to, a forbidden address: the re-check before
    /// each delivery attempt, on a DNS answer at most a second old (``RecentResolutions``).
    package func checkAddresses(of url: WebhookURL) async throws(WebhookURL.Problem) {
        try await check(url, resolving: recent.addresses(of:))
    }

    private func check(_ url: WebhookURL, resolving resolve: (String) async -> [IPAddress]) async throws(WebhookURL.Problem) {
        if allowInsecure { return }
        let host = url.host.hasSuffix(".") ? String(url.host.dropLast()) : url.host
        if Self.blockedHostNames.contains(host) || host.hasSuffix(".localhost") { throw .blockedHostName }
        if let literal = IPAddress(host) {
            if let range = literal.forbiddenRange { throw .blockedAddress(range) }
            return
        }
        for address in await resolve(host) {
            if let range = address.forbiddenRange { throw .blockedAddress(range) }
        }
    }

    /// Whether a connection may go to these addresses (all of a host's): none of them forbidden.
    package func permits(_ addresses: [IPAddress]) -> Bool {
        allowInsecure || addresses.allSatisfy { $0.forbiddenRange == nil }
    }

    /// Every address `host` resolves to (empty when it does not resolve). getaddrinfo blocks,
    /// so it runs on NIO's thread pool instead of a cooperative thread.
    static func resolve(_ host: String) async -> [IPAddress] {
        (try? await NIOThreadPool.singleton.runIfActive { lookup(host) }) ?? []
    }

    private static func lookup(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sockaddr = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    let value = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                    addresses.append(.v4(value))
                } else if info.pointee.ai_family == AF_INET6 {
                    let bytes = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    addresses.append(.v6(bytes))
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
