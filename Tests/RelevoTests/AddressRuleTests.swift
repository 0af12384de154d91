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
    ])
    func forbiddenRanges(address: String, kind: String) throws {
        #expect(try #require(IPAddress(address)).forbiddenRange == kind)
    }

    @Test(arguments: ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])
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
}
