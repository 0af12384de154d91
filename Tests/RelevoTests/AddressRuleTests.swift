import Synchronization
import Testing

@testable import Relevo

@Suite("Destination address rule")
struct AddressRuleTests {
    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("10.0.0.1", "private"), ("172.31.255.255", "private"), ("192.168.0.1", "private"),
        ("169.254.1.1", "link-local"), ("169.254.169.254", "cloud metadata"), ("100.100.100.200", "cloud metadata"),
        ("100.64.0.1", "CGNAT"), ("100.127.255.254", "CGNAT"), ("224.0.0.251", "multicast"), ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "reserved"), ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
        ("fc00::1", "private"), ("fd12:3456::1", "private"), ("ff02::1", "multicast"), ("::ffff:10.0.0.1", "private"),
        ("::ffff:7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::1", "cloud metadata"), ("2002:c0a8:101::", "private"),  // 6to4
    ])
    func forbiddenRanges(address: String, kind: String) throws {
        #expect(try #require(IPAddress(address)).forbiddenRange == kind)
    }

    @Test(arguments: [
        "93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
        "2002:5db8:d70e::1",
    ])
    func publicAddressesPass(address: String) throws {
        #expect(try #require(IPAddress(address)).forbiddenRange == nil)
    }

    @Test(arguments: ["0x7f.0.0.1", "2130706433", "127.1", "127.000.0.1", "1.2.3.4.5", "::1::", "12345::", "1:2:3:4:5:6:7:8:9"])
    func ambiguousFormsAreNotAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func parsedURLKeepsHostAndPort() throws {
        let url = try WebhookURL.parse("https://Panel.Example.com:8443/a?b=1", allowHTTP: false)
        #expect(url.host == "panel.example.com" && url.port == 8443 && url.scheme == "https")
        let v6 = try WebhookURL.parse("https://[2606:4700::1111]/x", allowHTTP: false)
        #expect(v6.host == "2606:4700::1111" && v6.port == 443)
    }

    @Test func hostNamesThatResolveLocallyAreRefused() async {
        let guardian = DestinationGuard(allowInsecure: false)
        await #expect(throws: WebhookURL.Problem.blockedHostName) { try await guardian.validate("https://localhost/x") }
        await #expect(throws: WebhookURL.Problem.blockedHostName) { try await guardian.validate("https://app.localhost/x") }
    }

    /// The re-check before each attempt reuses a recent DNS answer (not one DNS query per webhook);
    /// saving an integration asks DNS afresh.
    @Test func theAttemptRecheckReusesARecentAnswer() async throws {
        let dns = ScriptedDNS(answer: try #require(IPAddress("93.184.215.14")))
        let guardian = DestinationGuard(allowInsecure: false, lookup: { await dns.resolve($0) }, answersKeptFor: .seconds(60))
        let url = try WebhookURL.parse("https://panel.example.com/hook", allowHTTP: false)
        try await guardian.checkAddresses(of: url)
        dns.answer = try #require(IPAddress("10.0.0.7"))  // the name now leads into the operator's network
        try await guardian.checkAddresses(of: url)  // within the answer's lifetime: the answer checked before
        #expect(dns.lookups == 1)
        await #expect(throws: WebhookURL.Problem.blockedAddress("private")) { _ = try await guardian.validate("https://panel.example.com/x") }
        #expect(dns.lookups == 2)
    }

    /// Once the answer is older than its lifetime, a host that now resolves to a private address is refused.
    @Test func theAttemptRecheckSeesAChangeOnceTheAnswerIsOld() async throws {
        let dns = ScriptedDNS(answer: try #require(IPAddress("93.184.215.14")))
        let guardian = DestinationGuard(allowInsecure: false, lookup: { await dns.resolve($0) }, answersKeptFor: .milliseconds(100))
        let url = try WebhookURL.parse("https://panel.example.com/hook", allowHTTP: false)
        try await guardian.checkAddresses(of: url)
        dns.answer = try #require(IPAddress("10.0.0.7"))
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: WebhookURL.Problem.blockedAddress("private")) { try await guardian.checkAddresses(of: url) }
        #expect(dns.lookups == 2)
    }

    @Test func overlappingRechecksOfOneHostShareOneLookup() async throws {
        let dns = ScriptedDNS(answer: try #require(IPAddress("93.184.215.14")), delay: .milliseconds(50))
        let recent = RecentResolutions(lifetime: .seconds(60), lookup: { await dns.resolve($0) })
        await withTaskGroup(of: [IPAddress].self) { group in
            for _ in 0..<20 { group.addTask { await recent.addresses(of: "panel.example.com") } }
            for await addresses in group { #expect(addresses == [IPAddress("93.184.215.14")!]) }
        }
        _ = await recent.addresses(of: "other.example.com")
        #expect(dns.lookups == 2)
    }
}

/// A resolver whose answer the test sets, counting the lookups (the address rule, not DNS, is under test).
private final class ScriptedDNS: Sendable {
    private let state: Mutex<(answer: IPAddress, lookups: Int)>
    private let delay: Duration

    init(answer: IPAddress, delay: Duration = .zero) {
        state = Mutex((answer, 0))
        self.delay = delay
    }

    var answer: IPAddress {
        get { state.withLock { $0.answer } }
        set { state.withLock { $0.answer = newValue } }
    }

    var lookups: Int { state.withLock { $0.lookups } }

    func resolve(_ host: String) async -> [IPAddress] {
        let answer = state.withLock { state in
            state.lookups += 1
            return state.answer
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return [answer]
    }
}
