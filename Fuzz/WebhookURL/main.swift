import Dispatch
import FuzzSupport

@testable import Relevo

/// libFuzzer target: the webhook address rule (E1) and the IP literal parser behind it.
///
/// An address that passes must be what a sender can use: a non-empty host, a port in 1–65535, a
/// request target starting with `/`, printable ASCII only, and the same result when parsed again.
/// And the whole rule as the API applies it (``DestinationGuard``, here without DNS): an address it
/// accepts is https and never names a forbidden literal address (loopback, private, link-local…)
/// or a blocked host name.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhookURL(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = IPAddress(text)
    for allowHTTP in [false, true] {
        guard let url = try? WebhookURL.parse(text, allowHTTP: allowHTTP) else { continue }
        precondition(!url.host.isEmpty, "accepted without a host")
        precondition((1...65535).contains(url.port), "accepted with port \(url.port)")
        precondition(url.requestTarget.hasPrefix("/"), "request target \(url.requestTarget) does not start with /")
        precondition(
            (url.hostHeader + url.requestTarget).unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F },
            "a header or request line would carry a control or non-ASCII character")
        precondition((try? WebhookURL.parse(url.text, allowHTTP: allowHTTP)) == url, "parsing again gives another address")
    }
    if let url = validated(text) {
        precondition(url.scheme == "https", "accepted scheme \(url.scheme) without the development flag")
        if let literal = IPAddress(url.host) {
            precondition(literal.forbiddenRange == nil, "accepted the forbidden address \(url.host)")
        }
        precondition(url.host != "localhost" && !url.host.hasSuffix(".localhost"), "accepted the host \(url.host)")
    }
    return 0
}

@_cdecl("fuzz_WebhookURL_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzWebhookURL)
}

/// The rule of the API with no DNS lookup: literal addresses and blocked names only.
private let rule = DestinationGuard(allowInsecure: false, lookup: { _ in [] })

/// ``DestinationGuard/validate(_:)`` run to completion from the fuzzer's synchronous callback.
private func validated(_ text: String) -> WebhookURL? {
    final class Outcome: @unchecked Sendable { var url: WebhookURL? }  // written before the signal, read after
    let outcome = Outcome(), done = DispatchSemaphore(value: 0)
    Task {
        outcome.url = try? await rule.validate(text)
        done.signal()
    }
    done.wait()
    return outcome.url
}
