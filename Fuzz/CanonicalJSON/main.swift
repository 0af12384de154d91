import FuzzSupport
import Relevo

#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer target: the JavaScript-canonical writer over every document the parser accepts.
///
/// Its output must parse again and be written again byte for byte (a fixed point; the first
/// writing may reorder members, as JavaScript puts integer-like keys first). The comparison with Node's `JSON.stringify(JSON.parse(x))` is made afterwards over the
/// corpus (scripts/fuzz.sh): with RELEVO_FUZZ_TRANSCRIPT set, each input the parser accepts adds a
/// line `<input as hex>\t<canonical output as hex>` to that file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCanonicalJSON(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let written = CanonicalJSONWriter.bytes(value)
    guard let again = try? JSONParser.parse(written) else { preconditionFailure("the writer's output does not parse") }
    precondition(CanonicalJSONWriter.bytes(again) == written, "writing twice gives other bytes")
    Transcript.shared?.record(bytes, written)
    return 0
}

/// The optional file of accepted inputs and their canonical output, for the differential check.
final class Transcript: @unchecked Sendable {
    // Written by the fuzzer's one thread only.
    private let file: UnsafeMutablePointer<FILE>

    static let shared: Transcript? = {
        guard let path = getenv("RELEVO_FUZZ_TRANSCRIPT"), let file = fopen(path, "a") else { return nil }
        return Transcript(file: file)
    }()

    private init(file: UnsafeMutablePointer<FILE>) { self.file = file }

    func record(_ input: [UInt8], _ output: [UInt8]) {
        let line = Self.hex(input) + "\t" + Self.hex(output) + "\n"
        fputs(line, file)
        fflush(file)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

@_cdecl("fuzz_CanonicalJSON_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzCanonicalJSON)
}
