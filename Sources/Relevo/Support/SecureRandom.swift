import Crypto
import Foundation  // ContiguousBytes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Random identifiers and secrets from the system CSPRNG.
enum SecureRandom {

    /// `count` random bytes, eight per call to the system generator (one system call each).
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 7)
        while out.count < count { withUnsafeBytes(of: generator.next() as UInt64) { out.append(contentsOf: $0) } }
        out.removeLast(out.count - count)
        return out
    }

    /// `byteCount` random bytes as lowercase hex (so twice as many characters).
    static func hex(byteCount: Int) -> String { Hex.encode(bytes(byteCount)) }

    /// 64 random bits, taken from a block of the system's random bytes read at once: one system
    /// call per 64 calls instead of one each (every event id takes one). For identifiers, not for
    /// keys: a key takes its own bytes from ``bytes(_:)``.
    static func next() -> UInt64 {
        block.withLock { block in
            if block.values.isEmpty { block.refill() }
            return block.values.removeLast()
        }
    }

    private struct Block {
        var values: [UInt64] = []
        var device: Int32 = -1

        /// From `/dev/urandom` (the same generator as `getrandom`, which Swift's Glibc module does not
        /// declare); should it fail, from the standard library's generator, word by word.
        mutating func refill() {
            values = Array(repeating: 0, count: 64)
            if device < 0 { device = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
            let wanted = values.count * 8
            let read = device < 0 ? -1 : values.withUnsafeMutableBytes { Glibc.read(device, $0.baseAddress, wanted) }
            if read != wanted {
                var generator = SystemRandomNumberGenerator()
                values = values.map { _ in generator.next() }
            }
        }
    }

    private static let block = Mutex(Block())
}

/// Lowercase hexadecimal encoding.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Written straight into the string's storage: one allocation (none up to 15 characters) rather
    /// than a growing array and its copy, since it runs on every request and attempt.
    static func encode(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 2 * bytes.count) { out in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
                return 2 * bytes.count
            }
        }
    }

    /// The low `digits` hex digits of `value`, most significant first, into `out` from `start`.
    static func write(_ value: UInt64, digits: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for index in 0..<digits {
            out[start + index] = Self.digits[Int((value >> (4 * UInt64(digits - 1 - index))) & 0xF)]
        }
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The value of one hex digit (either case), nil for any other byte.
    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
