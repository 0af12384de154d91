import Foundation
import Testing

@testable import Relevo

@Suite("Signatures and retry policy")
struct SigningTests {
    // Vector computed independently: printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac 'secret'
    @Test func jelouSignatureMatchesAFixedVector() async throws {
        let signature = WebhookSignature.jelou(secret: "secret", body: Array(#"{"a":1}"#.utf8))
        #expect(signature == "sha256=" + (try await Self.openssl(#"{"a":1}"#, key: "secret")))
        #expect(WebhookSignature.verifyJelou(header: signature, body: Array(#"{"a":1}"#.utf8), secrets: ["other", "secret"]))
        #expect(!WebhookSignature.verifyJelou(header: signature, body: Array(#"{"a": 1}"#.utf8), secrets: ["secret"]))
        #expect(!WebhookSignature.verifyJelou(header: "sha256=zz", body: [], secrets: ["secret"]))
        #expect(!WebhookSignature.verifyJelou(header: nil, body: [], secrets: ["secret"]))
        #expect(!WebhookSignature.verifyJelou(header: signature.uppercased(), body: Array(#"{"a":1}"#.utf8), secrets: []))
    }

    @Test func standardWebhooksSignsIdTimestampAndBodyWithEverySecret() async throws {
        let header = WebhookSignature.standard(secrets: ["s1", "s2"], id: "evt_1", timestamp: 1_700_000_000, body: Array("{}".utf8))
        let parts = header.split(separator: " ")
        #expect(parts.count == 2 && parts.allSatisfy { $0.hasPrefix("v1,") })
        let expected = Data(Hex.decode(try await Self.openssl("evt_1.1700000000.{}", key: "s1"))!).base64EncodedString()
        #expect(parts[0] == "v1," + expected)
        #expect(WebhookSignature.standardSecret("abc") == "whsec_YWJj")
    }

    @Test func retryScheduleJitterRetryAfterAndExhaustion() {
        let policy = RetryPolicy.standard
        #expect(policy.delay(afterFailedAttempts: 1, random: { 0.5 }) == .seconds(5))
        #expect(policy.delay(afterFailedAttempts: 1, random: { 0 }) == .seconds(4.5))
        #expect(policy.delay(afterFailedAttempts: 7, random: { 1 }) == .seconds(39600))
        #expect(policy.delay(afterFailedAttempts: 8) == nil)  // 8 attempts in all
        #expect(policy.delay(afterFailedAttempts: 2, retryAfter: .seconds(60)) == .seconds(60))
        #expect(policy.delay(afterFailedAttempts: 1, retryAfter: .seconds(3600)) == .seconds(10))  // capped at 2 × 5 s
        #expect(RetryPolicy.parseSchedule("5s,5m,2h,300ms") == [.seconds(5), .seconds(300), .seconds(7200), .milliseconds(300)])
        #expect(RetryPolicy.parseSchedule("5x") == nil)
        #expect(RetryPolicy.parseSchedule("720h,30m") == [.seconds(2_592_000), .seconds(1800)])  // 30 days at most
        for typo in ["", ",", "5s,,5m", "5s,", "721h", "43201m", "9999999999999999h", "-5s"] {
            #expect(RetryPolicy.parseSchedule(typo) == nil, "\(typo)")
        }
    }

    @Test func retryAfterAcceptsSecondsAndDates() {
        #expect(WebhookSender.parseRetryAfter("120") == .seconds(120))
        #expect(WebhookSender.parseRetryAfter("soon") == nil)
        #expect(WebhookSender.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == .seconds(0))
    }

    /// On a thread of its own: a child process waited for on a cooperative thread stalls every test's tasks.
    static func openssl(_ message: String, key: String) async throws -> String {
        try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl", "dgst", "-sha256", "-hmac", key]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try? process.run()
            input.fileHandleForWriting.write(Data(message.utf8))
            try? input.fileHandleForWriting.close()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return String(text.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
