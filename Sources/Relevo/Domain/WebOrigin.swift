/// An origin as browsers send it in `Origin` (`https://shop.example`, `http://localhost:8080`):
/// scheme and host lowercased, the port only when it is not the scheme's default, no path.
enum WebOrigin {
    /// The origin `text` names in that form, or nil when it is not one (a path, a query, user info,
    /// another scheme, a wildcard).
    static func normalize(_ text: String) -> String? {
        guard text.utf8.count <= 256, text.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return nil }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https" } else if lower.hasPrefix("http://") { scheme = "http" } else { return nil }
        var rest = lower.dropFirst(scheme.count + 3)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains(where: { "/?#@*\\".contains($0) }) else { return nil }
        var host = Substring(rest)
        var port: Int?
        if host.hasPrefix("[") {  // an IPv6 literal
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { return nil }
                port = number
            }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]) else { return nil }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-.[]:".contains($0) }) else { return nil }
        if let port {
            guard (1...65535).contains(port) else { return nil }
            if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return "\(scheme)://\(host)" }
            return "\(scheme)://\(host):\(port)"
        }
        return "\(scheme)://\(host)"
    }
}
