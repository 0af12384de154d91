import FuzzSupport
import Relevo

/// libFuzzer target: any bytes into the strict JSON parser. It must return a value or a typed
/// failure whose offset lies within the input; never crash, hang or read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        _ = try JSONParser.parse(bytes)
    } catch {
        precondition(error.offset >= 0 && error.offset <= bytes.count, "failure offset \(error.offset) outside \(bytes.count) bytes")
        precondition(!error.reason.isEmpty, "a failure without a reason")
    }
    return 0
}

@_cdecl("fuzz_JSONParser_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzJSONParser)
}
