import RelevoPanelKit
import Testing

@Suite struct DeliveryDeduplicatorTests {
    @Test func aRepeatIsNotAFirstDelivery() {
        let seen = DeliveryDeduplicator(capacity: 10)
        #expect(seen.isFirstDelivery("e1"))
        #expect(!seen.isFirstDelivery("e1"))
        #expect(seen.isFirstDelivery("e2"))
        #expect(seen.count == 2)
    }

    @Test func theMemoryIsBoundedAndForgetsTheOldestFirst() {
        let seen = DeliveryDeduplicator(capacity: 3)
        for id in ["a", "b", "c", "d"] { #expect(seen.isFirstDelivery(id)) }
        #expect(seen.count == 3)
        #expect(!seen.isFirstDelivery("b") && !seen.isFirstDelivery("c") && !seen.isFirstDelivery("d"))
        #expect(seen.isFirstDelivery("a"))  // the oldest was forgotten
        for index in 0..<10_000 { _ = seen.isFirstDelivery("id-\(index)") }
        #expect(seen.count == 3)
    }

    @Test func aForgottenIdIsProcessedAgain() {
        let seen = DeliveryDeduplicator(capacity: 2)
        #expect(seen.isFirstDelivery("e1"))
        seen.forget("e1")
        #expect(seen.isFirstDelivery("e1"))
        #expect(seen.isFirstDelivery("e2"))
        #expect(seen.isFirstDelivery("e3"))
        #expect(seen.count == 2)
    }
}
