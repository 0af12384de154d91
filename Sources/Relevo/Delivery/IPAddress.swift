import NIOCore

/// An IPv4 or IPv6 address and the address-space rule of E1 (§2): which ranges a webhook may
/// never reach because they lead into the operator's own network.
package enum IPAddress: Sendable, Equatable {
    case v4(UInt32)
    case v6([UInt8])  // 16 bytes

    /// Parses dotted-quad IPv4 or textual IPv6 (with `::` and embedded IPv4), nothing looser:
    /// forms like `0x7f.1` or `2130706433` are refused so that they cannot smuggle loopback past the rule.
    package init?<S: StringProtocol>(_ text: S) {
        if text.contains(":") {
            guard let bytes = Self.parseV6(String(text)) else { return nil }
            self = .v6(bytes)
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    part.count == 1 || part.first != "0", let octet = UInt32(part), octet <= 255
                else { return nil }
                value = value << 8 | octet
            }
            self = .v4(value)
        }
    }

    private static func parseV6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }  // zone id
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (offset, piece) in pieces.enumerated() {
                if offset == pieces.count - 1, piece.contains("."), case .v4(let v4)? = IPAddress(piece) {
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Where to connect: this address and `port`.
    func socketAddress(port: Int) throws -> SocketAddress {
        switch self {
        case .v4(let value):
            try SocketAddress(ipAddress: [24, 16, 8, 0].map { String(value >> $0 & 0xFF) }.joined(separator: "."), port: port)
        case .v6(let bytes):
            try SocketAddress(
                ipAddress: stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                    .joined(separator: ":"), port: port)
        }
    }

    /// The kind of forbidden range this address is in, or nil when it is a package address.
    package var forbiddenRange: String? {
        switch self {
        case .v4(let value): return Self.forbiddenV4(value)
        case .v6(let bytes):
            if bytes.allSatisfy({ $0 == 0 }) { return "unspecified" }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return "loopback" }
            // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
            let embedded = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && (bytes[10...11] == [0xFF, 0xFF] || bytes[10...11] == [0, 0]) {
                return Self.forbiddenV4(embedded)
            }
            if bytes[0...1] == [0x00, 0x64] && bytes[2...3] == [0xFF, 0x9B] && bytes[4..<12].allSatisfy({ $0 == 0 }) {
                return Self.forbiddenV4(embedded)
            }
            // 6to4 (2002:a.b.c.d::/48) carries its IPv4 address in bytes 2 to 5: a host with a 6to4
            // tunnel sends to that address.
            if bytes[0...1] == [0x20, 0x02] {
                let tunnel = UInt32(bytes[2]) << 24 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 8 | UInt32(bytes[5])
                if let range = Self.forbiddenV4(tunnel) { return range }
            }
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return "link-local" }
            if bytes[0] & 0xFE == 0xFC { return "private" }
            if bytes[0] == 0xFF { return "multicast" }
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return "private" }  // deprecated site-local
            return nil
        }
    }

    private static func forbiddenV4(_ value: UInt32) -> String? {
        func within(_ base: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return value & mask == base & mask
        }
        if value == 0xA9FE_A9FE || value == 0x6464_64C8 { return "cloud metadata" }  // 169.254.169.254, 100.100.100.200
        if within(0x0000_0000, 8) { return "unspecified" }
        if within(0x7F00_0000, 8) { return "loopback" }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return "private" }
        if within(0xC000_0000, 24) { return "private" }  // 192.0.0.0/24, IETF protocol assignments
        if within(0x6440_0000, 10) { return "CGNAT" }
        if within(0xA9FE_0000, 16) { return "link-local" }
        if within(0xC612_0000, 15) { return "private" }  // 198.18.0.0/15, benchmarking
        if within(0xE000_0000, 4) { return "multicast" }
        if within(0xF000_0000, 4) { return "reserved" }  // includes 255.255.255.255
        return nil
    }
}
