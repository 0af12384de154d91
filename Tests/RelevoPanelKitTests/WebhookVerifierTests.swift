import Foundation
import HTTPTypes
import RelevoPanelKit
import Testing

/// The verifier against the Standard Webhooks specification's reference vector and against what
/// an attacker or a broken proxy would send.
@Suite struct WebhookVerifierTests {
    // The vector of the specification's reference libraries (their test suites sign and verify it).
    static let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let specId = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let specTimestamp: Int64 = 1_614_265_330
    static let specBody = Array(#"{"test": 2432232314}"#.utf8)
    static let specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    static let specNow = Date(timeIntervalSince1970: TimeInterval(specTimestamp))

    let verifier = WebhookVerifier(secrets: [specSecret])

    func verify(
        id: String? = specId, timestamp: String? = String(specTimestamp), signature: String? = specSignature,
        body: [UInt8] = specBody, now: Date = specNow, verifier: WebhookVerifier? = nil
    ) -> Result<VerifiedDelivery, WebhookVerificationError> {
        Result { () throws(WebhookVerificationError) in
            try (verifier ?? self.verifier).verifyStandardWebhooks(id: id, timestamp: timestamp, signature: signature, body: body, now: now)
        }
    }

    func failure(_ result: Result<VerifiedDelivery, WebhookVerificationError>) -> WebhookVerificationError? {
        if case .failure(let error) = result { error } else { nil }
    }

    @Test func theSpecificationVectorSignsAndVerifies() throws {
        let secret = SigningSecret(Self.specSecret)
        #expect(secret.standardSignature(id: Self.specId, timestamp: Self.specTimestamp, body: Self.specBody) == Self.specSignature)
        let delivery = try verify().get()
        #expect(delivery.webhookId == Self.specId)
        #expect(delivery.body == Self.specBody)
        #expect(delivery.timestamp == Self.specNow)
    }

    @Test func oneValidSignatureAmongSeveralPasses() throws {
        let header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc \(Self.specSignature) v1,bm90IGl0"
        #expect(throws: Never.self) { try verify(signature: header).get() }
    }

    @Test func aTamperedBodyIsAMismatch() {
        var body = Self.specBody
        body[body.count - 2] ^= 1
        #expect(failure(verify(body: body)) == .signatureMismatch)
        #expect(failure(verify(id: "msg_other")) == .signatureMismatch)
        #expect(failure(verify(timestamp: String(Self.specTimestamp + 1), now: Self.specNow)) == .signatureMismatch)
    }

    @Test func aReserializedBodyIsAMismatch() throws {
        // The same JSON, parsed and written again without the space: what a framework's JSON body does.
        let object = try JSONSerialization.jsonObject(with: Data(Self.specBody))
        let reserialized = Array(try JSONSerialization.data(withJSONObject: object))
        #expect(reserialized != Self.specBody)
        #expect(failure(verify(body: reserialized)) == .signatureMismatch)
    }

    @Test func timestampsOutsideTheToleranceAreRefused() {
        #expect(throws: Never.self) { try verify(now: Self.specNow.addingTimeInterval(300)).get() }
        #expect(throws: Never.self) { try verify(now: Self.specNow.addingTimeInterval(-300)).get() }
        #expect(failure(verify(now: Self.specNow.addingTimeInterval(301))) == .timestampTooOld(seconds: 301))
        #expect(failure(verify(now: Self.specNow.addingTimeInterval(-301))) == .timestampInFuture(seconds: 301))
        let strict = WebhookVerifier(secrets: [Self.specSecret], tolerance: .seconds(10))
        #expect(failure(verify(now: Self.specNow.addingTimeInterval(11), verifier: strict)) == .timestampTooOld(seconds: 11))
    }

    @Test func missingAndMalformedHeadersAreNamed() {
        #expect(failure(verify(id: nil)) == .missingHeader("webhook-id"))
        #expect(failure(verify(id: "")) == .missingHeader("webhook-id"))
        #expect(failure(verify(timestamp: nil)) == .missingHeader("webhook-timestamp"))
        #expect(failure(verify(signature: nil)) == .missingHeader("webhook-signature"))
        #expect(failure(verify(timestamp: "1614265330.5")) == .malformedHeader("webhook-timestamp"))
        #expect(failure(verify(timestamp: "yesterday")) == .malformedHeader("webhook-timestamp"))
        #expect(failure(verify(signature: "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")) == .malformedHeader("webhook-signature"))
        #expect(failure(verify(signature: "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")) == .malformedHeader("webhook-signature"))
        #expect(failure(verify(signature: "v1,not base64!")) == .malformedHeader("webhook-signature"))
    }

    @Test func errorMessagesNeverCarryTheExpectedSignature() {
        let wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let message = failure(verify(signature: wrong)).map(String.init(describing:)) ?? ""
        #expect(message == "no signature matches the body under the configured secrets")
        #expect(!message.contains("g0hM9SsE"))
        #expect("\(SigningSecret(Self.specSecret))" == "SigningSecret(…)")
    }

    @Test func bothSecretsOfAGracePeriodAreAccepted() throws {
        let (new, old) = ("new-secret-0123456789abcdef", "old-secret-0123456789abcdef")
        let rotating = WebhookVerifier(secrets: [new, old])
        for secret in [new, old] {
            let signature = SigningSecret(secret).standardSignature(id: "e1", timestamp: Self.specTimestamp, body: Self.specBody)
            #expect(throws: Never.self) { try verify(id: "e1", signature: signature, verifier: rotating).get() }
            #expect(throws: Never.self) {
                try rotating.verifyJelouSignature(SigningSecret(secret).jelouSignature(of: Self.specBody), body: Self.specBody)
            }
        }
        // What Relevo sends during a grace period: one entry per secret.
        let both = [new, old].map { SigningSecret($0).standardSignature(id: "e1", timestamp: Self.specTimestamp, body: Self.specBody) }
        #expect(throws: Never.self) { try verify(id: "e1", signature: both.joined(separator: " "), verifier: WebhookVerifier(secrets: [new])).get() }
        let stranger = SigningSecret("another-secret").standardSignature(id: "e1", timestamp: Self.specTimestamp, body: Self.specBody)
        #expect(failure(verify(id: "e1", signature: stranger, verifier: rotating)) == .signatureMismatch)
    }

    @Test func relevosSecretIsItsTextsBytesInEitherForm() {
        let secret = "339e4f338c0cd1426fa7136a57749c97446d2073ba8d8a588876c3545ab5c3d9"
        let whsec = "whsec_" + Data(secret.utf8).base64EncodedString()
        #expect(SigningSecret(secret) == SigningSecret(whsec))
        // printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac "$secret"
        let expected = "sha256=7649739355822936103259ab7416c956487de1c69f936a80ceeab9edd7108222"
        #expect(SigningSecret(secret).jelouSignature(of: Array(#"{"a":1}"#.utf8)) == expected)
        #expect(SigningSecret(whsec).jelouSignature(of: Array(#"{"a":1}"#.utf8)) == expected)
    }

    @Test func theJelouSignatureIsCheckedOverTheRawBytes() {
        let secret = "s3cret"
        let body = Array(#"{"field":"messages","value":{"id":"m1"}}"#.utf8)
        let header = SigningSecret(secret).jelouSignature(of: body)
        let check = WebhookVerifier(secrets: [secret])
        #expect(throws: Never.self) { try check.verifyJelouSignature(header, body: body) }
        #expect(throws: Never.self) {
            try check.verifyJelouSignature(header.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: body)
        }
        #expect(throws: WebhookVerificationError.signatureMismatch) { try check.verifyJelouSignature(header, body: body + [0x20]) }
        #expect(throws: WebhookVerificationError.missingHeader("x-jelou-signature")) { try check.verifyJelouSignature(nil, body: body) }
        #expect(throws: WebhookVerificationError.malformedHeader("x-jelou-signature")) { try check.verifyJelouSignature("sha1=abcd", body: body) }
        #expect(throws: WebhookVerificationError.malformedHeader("x-jelou-signature")) {
            try check.verifyJelouSignature(String(header.dropLast(2)), body: body)
        }
        #expect(throws: WebhookVerificationError.malformedHeader("x-jelou-signature")) {
            try check.verifyJelouSignature(String(header.dropLast()) + "g", body: body)
        }
    }

    @Test func headersAreFoundInAnyCase() throws {
        let headers = ["Webhook-Id": Self.specId, "WEBHOOK-TIMESTAMP": String(Self.specTimestamp), "webhook-signature": Self.specSignature]
        #expect(try verifier.verify(headers: headers, body: Self.specBody, now: Self.specNow).webhookId == Self.specId)
        var fields = HTTPFields()
        fields[HTTPField.Name("Webhook-Id")!] = Self.specId
        fields[HTTPField.Name("webhook-timestamp")!] = String(Self.specTimestamp)
        fields[HTTPField.Name("webhook-signature")!] = Self.specSignature
        #expect(try verifier.verify(headers: fields, body: Self.specBody, now: Self.specNow).webhookId == Self.specId)
        fields[HTTPField.Name("webhook-signature")!] = nil
        #expect(throws: WebhookVerificationError.missingHeader("webhook-signature")) {
            try verifier.verify(headers: fields, body: Self.specBody, now: Self.specNow)
        }
    }
}
