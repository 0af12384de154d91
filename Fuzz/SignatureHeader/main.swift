import FuzzSupport
import Relevo

/// libFuzzer target: `X-Jelou-Signature` verification over fuzzed headers and bodies.
///
/// The first byte splits the input into a header and a body. A fuzzed header must never verify
/// unless it is the body's real signature (its hex digits in either case); the real signature must verify, also when it is one of
/// two secrets (a rotation's grace period); and any change to the body must make it fail.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignatureHeader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let first = bytes.first else { return 0 }
    let split = min(Int(first), bytes.count - 1)
    let header = String(decoding: bytes[1..<(1 + split)], as: UTF8.self)
    let body = Array(bytes[(1 + split)...])
    let secret = "whsec-fuzz-secret", other = "an-older-secret"
    let real = WebhookSignature.jelou(secret: secret, body: body)
    // Hex digits of either case are accepted, as written by any HMAC library.
    let isReal = header.hasPrefix("sha256=") && header.dropFirst(7).lowercased() == real.dropFirst(7)
    precondition(
        WebhookSignature.verifyJelou(header: header, body: body, secrets: [secret]) == isReal,
        "a header verified that is not the real signature, or the real one failed")
    precondition(WebhookSignature.verifyJelou(header: real, body: body, secrets: [other, secret]), "the signature failed beside a second secret")
    precondition(!WebhookSignature.verifyJelou(header: real, body: body, secrets: [other]), "verified under the wrong secret")
    var tampered = body
    if tampered.isEmpty { tampered = [0] } else { tampered[tampered.count / 2] ^= 0x01 }
    precondition(!WebhookSignature.verifyJelou(header: real, body: tampered, secrets: [secret]), "a tampered body verified")
    return 0
}

@_cdecl("fuzz_SignatureHeader_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSignatureHeader)
}
